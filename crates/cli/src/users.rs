//! `tiaki users`: accounts of the service, their roles and API tokens.

use std::io::BufRead;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;
use tiaki_core::store::UserStore;
use tiaki_core::types::audit::AuditAction as Audit;
use tiaki_core::types::access::Role;
use tiaki_core::users;

use crate::ctx::{self, Ctx, audit};

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    command: UsersCommand,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user; the password is read from the first line of stdin
    /// (at least 12 characters).
    Add {
        name: String,
        /// The user's agency's country (ISO 3166-1 alpha-2).
        #[arg(long)]
        agency: String,
        /// admin, coordinator, analyst, liaison, victim_id, matcher or curator.
        #[arg(long)]
        role: Role,
        /// A token-only account (an HMA client): no password is read.
        #[arg(long)]
        no_password: bool,
    },
    /// Every user.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: their tokens stop answering at once.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Change a user's role.
    Role { name: String, role: Role },
    /// Print a new API token for a user (shown once; only its hash is kept).
    Token {
        name: String,
        /// Days until it expires; default: never.
        #[arg(long)]
        expires: Option<u32>,
    },
    /// Revoke a user's tokens (all, or one by id).
    Revoke {
        name: String,
        #[arg(long)]
        token: Option<i64>,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

pub fn run(ctx: &Ctx, args: UsersArgs) -> anyhow::Result<ExitCode> {
    ctx::runtime()?.block_on(async {
        let store = ctx.store().await?;
        let now = ctx.now();
        match args.command {
            UsersCommand::Add {
                name,
                agency,
                role,
                no_password,
            } => {
                let password = if no_password {
                    None
                } else {
                    Some(read_password()?)
                };
                let u = users::add_user(&store, &name, &agency, role, password.as_deref(), &now)
                    .await?;
                let detail = json!({"role": u.role, "country": u.country});
                audit(&store, &now, Audit::UserAdded, &u.name, detail).await?;
                println!("user {} ({}, {}) created", u.name, u.role, u.country);
            }
            UsersCommand::Ls { json } => {
                for u in store.users().await? {
                    if json {
                        println!("{}", serde_json::to_string(&u)?);
                    } else {
                        let state = if u.disabled { "disabled" } else { "enabled" };
                        println!("{}\t{}\t{}\t{}", u.name, u.role, u.country, state);
                    }
                }
            }
            UsersCommand::Disable { name } => {
                users::change_user(&store, &name, None, None, Some(true), None, &now).await?;
                audit(&store, &now, Audit::UserDisabled, &name, json!({"disabled": true})).await?;
                println!("user {name} disabled");
            }
            UsersCommand::Enable { name } => {
                users::change_user(&store, &name, None, None, Some(false), None, &now).await?;
                audit(&store, &now, Audit::UserChanged, &name, json!({"disabled": false})).await?;
                println!("user {name} enabled");
            }
            UsersCommand::Role { name, role } => {
                users::change_user(&store, &name, Some(role), None, None, None, &now).await?;
                audit(&store, &now, Audit::RoleChanged, &name, json!({"role": role})).await?;
                println!("user {name} is now {role}");
            }
            UsersCommand::Token { name, expires } => {
                let (token, row) = users::new_token(&store, &name, expires, &now).await?;
                let detail = json!({"token": row.id, "expires_at": row.expires_at});
                audit(&store, &now, Audit::TokenIssued, &name, detail).await?;
                eprintln!(
                    "token {} for {name}{}; it is shown once:",
                    row.id,
                    row.expires_at
                        .as_deref()
                        .map(|e| format!(", expires {e}"))
                        .unwrap_or_default()
                );
                println!("{token}");
            }
            UsersCommand::Revoke { name, token } => {
                let n = users::revoke(&store, &name, token, &now).await?;
                let detail = json!({"token": token, "revoked": n});
                audit(&store, &now, Audit::TokenRevoked, &name, detail).await?;
                println!("{n} token(s) of {name} revoked");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
