//! The service's configuration: a TOML file (`tiaki serve --config FILE`),
//! then the environment and the command line over it (the CLI resolves
//! that order: flag or `TIAKI_*` variable, else the file, else the default
//! here). An unknown key or a wrong type is an error naming the key and the
//! line, never ignored. docs/deploy.md has the example.

use std::path::Path;

use serde::Deserialize;

use crate::state::Limits;
use tiaki_core::users::SessionPolicy;

/// Everything `tiaki serve` can be told. Every field is optional in the
/// file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub bind: Option<String>,
    /// Log lines as JSON.
    pub log_json: Option<bool>,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub audit: AuditConfig,
}

/// `[audit]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Minutes between signed checkpoints of the audit chain (default 10;
    /// one is also written at shutdown).
    pub checkpoint_minutes: Option<u64>,
}

/// `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body in MiB (default 64).
    pub body_mib: Option<usize>,
    /// Seconds before a request is stopped (default 60).
    pub request_seconds: Option<u64>,
}

/// `[sessions]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// Minutes of inactivity that end a session (default 30).
    pub idle_minutes: Option<i64>,
    /// Hours after login that end a session (default 12).
    pub absolute_hours: Option<i64>,
    /// Failed logins per account in the window before 429 (default 5).
    pub failures_per_account: Option<u64>,
    /// Failed logins per client address in the window (default 50).
    pub failures_per_address: Option<u64>,
    /// The window, in minutes (default 15).
    pub failure_window_minutes: Option<i64>,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {key} must be at least {min}")]
    TooSmall {
        path: String,
        key: &'static str,
        min: i64,
    },
}

impl tiaki_core::ErrorCode for ConfigError {
    fn error_code(&self) -> tiaki_core::Code {
        match self {
            ConfigError::Read { source, .. } => tiaki_core::ErrorCode::error_code(source),
            ConfigError::Parse { .. } | ConfigError::TooSmall { .. } => {
                tiaki_core::Code::InvalidInput
            }
        }
    }
}

impl Config {
    /// Reads a configuration file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: name.clone(),
            source,
        })?;
        let c: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: name.clone(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        c.check(&name)?;
        Ok(c)
    }

    fn check(&self, path: &str) -> Result<(), ConfigError> {
        let s = &self.sessions;
        let checks: [(&'static str, Option<i64>, i64); 5] = [
            ("sessions.idle_minutes", s.idle_minutes, 1),
            ("sessions.absolute_hours", s.absolute_hours, 1),
            ("sessions.failure_window_minutes", s.failure_window_minutes, 1),
            ("limits.body_mib", self.limits.body_mib.map(|v| i64::try_from(v).unwrap_or(i64::MAX)), 1),
            ("limits.request_seconds", self.limits.request_seconds.map(|v| i64::try_from(v).unwrap_or(i64::MAX)), 1),
        ];
        for (key, v, min) in checks {
            if v.is_some_and(|v| v < min) {
                return Err(ConfigError::TooSmall {
                    path: path.to_owned(),
                    key,
                    min,
                });
            }
        }
        Ok(())
    }

    /// The request limits this configuration asks for.
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            body_bytes: self
                .limits
                .body_mib
                .map_or(d.body_bytes, |m| m.saturating_mul(1024 * 1024)),
            request_seconds: self.limits.request_seconds.unwrap_or(d.request_seconds),
        }
    }

    /// Seconds between audit checkpoints.
    pub fn checkpoint_seconds(&self) -> u64 {
        self.audit.checkpoint_minutes.unwrap_or(10).max(1) * 60
    }

    /// The session policy this configuration asks for.
    pub fn sessions(&self) -> SessionPolicy {
        let d = SessionPolicy::default();
        let s = &self.sessions;
        SessionPolicy {
            idle_seconds: s.idle_minutes.map_or(d.idle_seconds, |m| m * 60),
            absolute_seconds: s.absolute_hours.map_or(d.absolute_seconds, |h| h * 3600),
            failure_window_seconds: s
                .failure_window_minutes
                .map_or(d.failure_window_seconds, |m| m * 60),
            max_failures_per_name: s.failures_per_account.unwrap_or(d.max_failures_per_name),
            max_failures_per_addr: s.failures_per_address.unwrap_or(d.max_failures_per_addr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_and_typos_are_named() {
        let c: Config = toml::from_str(include_str!("../../../docs/tiaki-serve.example.toml"))
            .unwrap_or_default();
        assert_eq!(c.bind.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(c.sessions().idle_seconds, 30 * 60);
        let e = toml::from_str::<Config>("[sessions]\nidle_minuts = 5\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("idle_minuts"), "{e}");
    }
}
