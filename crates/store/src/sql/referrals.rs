// Agencies and the referral ledger: the SQL both backends share (see
// `sql/lists.rs` for how it is included).

use crate::referrals::{
    AccountMedia, AgencyChange, AgencyRow, AttributedAccount, CountryAccounts, EventsAdded,
    LedgerCounts, MediaPage, NewAgency, NewReferralEvent, ReferableAccount, ReferralEvent,
    ReferralRow, ReferralState, ReferralStore, StoredReferralEvent,
};

use tiaki_types::model::MediaData;

const REFERRAL_COLUMNS: &str = "id, country, agency, state, accounts, persons, media, created_at, \
     updated_at, package, tar_sha256";

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn json_of(text: &str, what: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// One media item as `uploaded_media` aggregates it: id, intake id,
/// uploader (provider account id), provider id, original name, viewed
/// flag, MD5, SHA-1, SHA-256, PDQ (hex; empty or null when absent), PDQ
/// quality, triage, bytes, stored, and `media.data` (null when empty).
/// Booleans come as `true`/`false` from
/// PostgreSQL and as 0/1 from SQLite.
type MediaTuple<'a> = (
    i64,
    i64,
    std::borrow::Cow<'a, str>,
    std::borrow::Cow<'a, str>,
    Option<String>,
    Option<SqlBool>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<std::borrow::Cow<'a, str>>,
    Option<i64>,
    Option<SqlBool>,
    Option<Box<MediaData<'static>>>,
);

/// Parses a page of aggregated media (see [`MediaTuple`]), keeping those
/// of `uploaders`.
fn parse_uploaded_media(
    text: &str,
    uploaders: &Uploaders,
    out: &mut Vec<AccountMedia>,
) -> Result<(), StoreError> {
    let items: Vec<MediaTuple<'_>> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("media: {e}")))?;
    out.reserve(items.len());
    for (
        id,
        intake_id,
        uploader,
        provider_id,
        original_name,
        viewed,
        md5,
        sha1,
        sha256,
        pdq,
        quality,
        triage,
        bytes,
        stored,
        data,
    ) in items
    {
        let Some(account_id) = uploaders.get(intake_id, &uploader) else {
            continue;
        };
        out.push(AccountMedia {
            id,
            account_id,
            provider_id: provider_id.into_owned(),
            original_name,
            viewed_by_provider: viewed.map(|v| v.get()),
            hashes: MediaHashes {
                md5: hex_bytes::<16>(md5, "MD5")?,
                sha1: hex_bytes::<20>(sha1, "SHA-1")?,
                sha256: hex_bytes::<32>(sha256, "SHA-256")?,
                pdq: hex_bytes::<32>(pdq, "PDQ")?.map(|b| PdqHash::from_bytes(&b)),
                pdq_quality: quality.and_then(|q| u8::try_from(q).ok()),
                vpdq: None,
            },
            triage: triage_of(triage.as_deref())?,
            bytes: bytes.map(u64_of),
            stored: stored.is_some_and(|s| s.get()),
            data,
        });
    }
    Ok(())
}

fn referral_from_row(r: &DbRow) -> Result<ReferralRow, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(ReferralRow {
        id: r.try_get("id")?,
        country: r.try_get("country")?,
        agency: r.try_get("agency")?,
        state: ReferralState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("referral state {state:?}")))?,
        accounts: u64_of(r.try_get("accounts")?),
        persons: u64_of(r.try_get("persons")?),
        media: u64_of(r.try_get("media")?),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        package: r.try_get("package")?,
        tar_sha256: r.try_get("tar_sha256")?,
    })
}

async fn insert_referral_event(
    conn: &mut DbConn,
    e: &ReferralEvent,
    now: &Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO referral_events (referral_id, at, event, count, note, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (referral_id, at, event, count, note) DO NOTHING",
    )
    .bind(&e.referral_id)
    .bind(&e.at)
    .bind(&e.event)
    .bind(i64_of(e.count))
    .bind(&e.note)
    .bind(now.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

impl ReferralStore for Backend {
    async fn import_agencies(
        &self,
        agencies: &[NewAgency],
        now: &Timestamp,
    ) -> Result<Vec<AgencyChange>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(agencies.len());
        for a in agencies {
            let old =
                sqlx::query("SELECT name, age_recipient, contact FROM agencies WHERE country = $1")
                    .bind(&a.country)
                    .fetch_optional(&mut *tx)
                    .await?;
            let change = match old {
                None => AgencyChange::Added,
                Some(r) => {
                    let same = r.try_get::<String, _>("name")? == a.name
                        && r.try_get::<String, _>("age_recipient")? == a.age_recipient
                        && r.try_get::<String, _>("contact")? == a.contact;
                    if same {
                        AgencyChange::Unchanged
                    } else {
                        AgencyChange::Changed
                    }
                }
            };
            if change != AgencyChange::Unchanged {
                sqlx::query(
                    "INSERT INTO agencies (country, name, age_recipient, contact, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (country) DO UPDATE SET \
                     name = excluded.name, age_recipient = excluded.age_recipient, \
                     contact = excluded.contact, updated_at = excluded.updated_at",
                )
                .bind(&a.country)
                .bind(&a.name)
                .bind(&a.age_recipient)
                .bind(&a.contact)
                .bind(now.as_str())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO agency_history (country, name, age_recipient, contact, imported_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&a.country)
                .bind(&a.name)
                .bind(&a.age_recipient)
                .bind(&a.contact)
                .bind(now.as_str())
                .execute(&mut *tx)
                .await?;
            }
            out.push(change);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn agencies(&self) -> Result<Vec<AgencyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT country, name, age_recipient, contact, updated_at FROM agencies ORDER BY country",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AgencyRow {
                    country: r.try_get("country")?,
                    name: r.try_get("name")?,
                    age_recipient: r.try_get("age_recipient")?,
                    contact: r.try_get("contact")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn attributed_countries(&self) -> Result<Vec<CountryAccounts>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.country AS country, COUNT(*) AS accounts, \
             CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM referral_accounts r \
                 WHERE r.account_id = t.account_id) THEN 0 ELSE 1 END) AS BIGINT) AS unreferred \
             FROM account_attribution t WHERE t.country IS NOT NULL \
             GROUP BY t.country ORDER BY t.country",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CountryAccounts {
                    country: r.try_get("country")?,
                    accounts: u64_of(r.try_get("accounts")?),
                    unreferred: u64_of(r.try_get("unreferred")?),
                })
            })
            .collect()
    }

    async fn referable_accounts(
        &self,
        include_referred: bool,
    ) -> Result<Vec<ReferableAccount>, StoreError> {
        let filter = if include_referred {
            ""
        } else {
            " AND NOT EXISTS (SELECT 1 FROM referral_accounts r WHERE r.account_id = t.account_id)"
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT t.country AS country, t.account_id AS account_id, a.intake_id AS intake_id, \
             a.provider_id AS provider_id FROM account_attribution t \
             JOIN accounts a ON a.id = t.account_id \
             WHERE t.country IS NOT NULL{filter} ORDER BY t.country, t.account_id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReferableAccount {
                    country: r.try_get("country")?,
                    account_id: r.try_get("account_id")?,
                    intake_id: r.try_get("intake_id")?,
                    provider_id: r.try_get("provider_id")?,
                })
            })
            .collect()
    }

    async fn attributed_accounts(
        &self,
        account_ids: &[i64],
    ) -> Result<Vec<AttributedAccount>, StoreError> {
        let mut out = Vec::with_capacity(account_ids.len());
        let mut conn = self.pool.acquire().await?;
        for chunk in account_ids.chunks(SMALL_ROWS) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT a.id AS account_id, a.intake_id AS intake_id, i.report_id AS report_id, \
                 a.provider_id AS provider_id, a.username AS username, a.data AS data, \
                 p.label AS person, t.country AS country, t.confidence AS confidence, \
                 t.evidence AS evidence \
                 FROM account_attribution t \
                 JOIN accounts a ON a.id = t.account_id \
                 JOIN intakes i ON i.id = a.intake_id \
                 LEFT JOIN persons p ON p.id = t.person_id \
                 WHERE t.country IS NOT NULL AND t.account_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *conn).await? {
                let data: String = r.try_get("data")?;
                let evidence: String = r.try_get("evidence")?;
                out.push(AttributedAccount {
                    account_id: r.try_get("account_id")?,
                    intake_id: r.try_get("intake_id")?,
                    report_id: r.try_get("report_id")?,
                    provider_id: r.try_get("provider_id")?,
                    username: r.try_get("username")?,
                    data: json_of(&data, "account data")?,
                    person: r.try_get("person")?,
                    country: r.try_get("country")?,
                    confidence: r.try_get("confidence")?,
                    evidence: json_of(&evidence, "attribution evidence")?,
                });
            }
        }
        out.sort_by(|x, y| {
            (&x.report_id, &x.provider_id, x.account_id).cmp(&(
                &y.report_id,
                &y.provider_id,
                y.account_id,
            ))
        });
        Ok(out)
    }

    async fn media_id_range(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let (first, last): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT MIN(id), MAX(id) FROM media")
                .fetch_one(&self.pool)
                .await?;
        Ok(first.zip(last))
    }

    async fn uploaded_media(
        &self,
        after: i64,
        upto: i64,
        uploaders: &Uploaders,
    ) -> Result<MediaPage, StoreError> {
        // The page as one JSON text: a row costs far more through the
        // driver than its text costs to parse (2,000,000 media: 13 s of
        // CPU as rows, 2.5 s as JSON pages, SQLite's part included).
        let sql = format!(
            "SELECT CAST((SELECT {JSON_GROUP_ARRAY}({JSON_ARRAY}(m.id, m.intake_id, m.account, \
             m.provider_id, m.original_name, m.viewed_by_provider, {}, {}, {}, {}, m.pdq_quality, \
             m.triage, m.bytes, m.stored, {JSON_OF_DATA})) \
             FROM media m WHERE m.id > $1 AND m.id <= $2) AS TEXT)",
            hex_sql("m.md5"),
            hex_sql("m.sha1"),
            hex_sql("m.sha256"),
            hex_sql("m.pdq"),
        );
        let mut out = MediaPage::default();
        let mut conn = self.pool.acquire().await?;
        let text: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(after)
            .bind(upto)
            .fetch_one(&mut *conn)
            .await?;
        if let Some(text) = text {
            parse_uploaded_media(&text, uploaders, &mut out.media)?;
        }
        // Either backend may aggregate in any order.
        out.media.sort_unstable_by_key(|m| m.id);
        let rows = sqlx::query(
            "SELECT media_id, entry_id, list_id, kind, distance, variant FROM media_matches \
             WHERE media_id > $1 AND media_id <= $2",
        )
        .bind(after)
        .bind(upto)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            let (media_id, row) = media_match_of(&r)?;
            if out.media.binary_search_by_key(&media_id, |m| m.id).is_ok() {
                out.matches.push((media_id, row));
            }
        }
        out.matches.sort_by(|x, y| {
            (x.0, x.1.entry_id, kind_name(x.1.kind)).cmp(&(y.0, y.1.entry_id, kind_name(y.1.kind)))
        });
        Ok(out)
    }

    async fn record_referral(
        &self,
        referral: &ReferralRow,
        account_ids: &[i64],
        now: &Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let existed: Option<String> = sqlx::query_scalar("SELECT id FROM referrals WHERE id = $1")
            .bind(&referral.id)
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO referrals (id, country, agency, state, accounts, persons, media, \
             created_at, updated_at, package, tar_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET agency = excluded.agency, accounts = excluded.accounts, \
             persons = excluded.persons, media = excluded.media, updated_at = excluded.updated_at, \
             package = excluded.package, tar_sha256 = excluded.tar_sha256",
        )
        .bind(&referral.id)
        .bind(&referral.country)
        .bind(&referral.agency)
        .bind(referral.state.name())
        .bind(i64_of(referral.accounts))
        .bind(i64_of(referral.persons))
        .bind(i64_of(referral.media))
        .bind(&referral.created_at)
        .bind(&referral.updated_at)
        .bind(&referral.package)
        .bind(&referral.tar_sha256)
        .execute(&mut *tx)
        .await?;
        for chunk in account_ids.chunks(SMALL_ROWS) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("INSERT INTO referral_accounts (referral_id, account_id) ");
            qb.push_values(chunk, |mut b, id| {
                b.push_bind(referral.id.clone()).push_bind(*id);
            });
            qb.push(" ON CONFLICT (referral_id, account_id) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        let event = ReferralEvent {
            referral_id: referral.id.clone(),
            at: now.as_str().to_owned(),
            event: if existed.is_some() {
                "rebuilt"
            } else {
                "built"
            }
            .to_owned(),
            count: 0,
            note: referral.tar_sha256.clone(),
        };
        insert_referral_event(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn referrals(&self, country: Option<&str>) -> Result<Vec<ReferralRow>, StoreError> {
        let filter = if country.is_some() {
            "WHERE country = $1"
        } else {
            "WHERE $1 IS NULL"
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals {filter} ORDER BY id"
        )))
        .bind(country)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(referral_from_row).collect()
    }

    async fn referral(&self, id: &str) -> Result<Option<ReferralRow>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(referral_from_row).transpose()
    }

    async fn referral_events(&self, id: &str) -> Result<Vec<StoredReferralEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT referral_id, at, event, count, note, imported_at FROM referral_events \
             WHERE referral_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredReferralEvent {
                    event: ReferralEvent {
                        referral_id: r.try_get("referral_id")?,
                        at: r.try_get("at")?,
                        event: r.try_get("event")?,
                        count: u64_of(r.try_get("count")?),
                        note: r.try_get("note")?,
                    },
                    imported_at: r.try_get("imported_at")?,
                })
            })
            .collect()
    }

    async fn add_referral_events(
        &self,
        events: &[NewReferralEvent],
        now: &Timestamp,
    ) -> Result<EventsAdded, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut known: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for e in events {
            let id = e.event.referral_id.as_str();
            if known.contains(id) {
                continue;
            }
            let found: Option<String> =
                sqlx::query_scalar("SELECT id FROM referrals WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::NoSuchReferral(id.to_owned()));
            }
            known.insert(id);
        }
        let mut out = EventsAdded::default();
        for e in events {
            if insert_referral_event(&mut tx, &e.event, now).await? {
                out.added += 1;
            } else {
                out.duplicates += 1;
            }
            if let Some(to) = e.moves_to {
                // Forward only: the states before `to`, listed.
                let earlier: Vec<&str> = ReferralState::ALL
                    .iter()
                    .filter(|s| **s < to)
                    .map(|s| s.name())
                    .collect();
                if earlier.is_empty() {
                    continue;
                }
                let mut qb: QueryBuilder<Db> = QueryBuilder::new("UPDATE referrals SET state = ");
                qb.push_bind(to.name())
                    .push(", updated_at = ")
                    .push_bind(now.as_str().to_owned())
                    .push(" WHERE id = ")
                    .push_bind(e.event.referral_id.clone())
                    .push(" AND state IN (");
                let mut sep = qb.separated(", ");
                for s in earlier {
                    sep.push_bind(s);
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn ledger_counts(&self) -> Result<LedgerCounts, StoreError> {
        const QUERIES: [&str; 8] = [
            "SELECT COUNT(*) FROM persons",
            "SELECT COUNT(DISTINCT country) FROM account_attribution WHERE country IS NOT NULL",
            "SELECT COUNT(*) FROM referrals",
            "SELECT COUNT(DISTINCT country) FROM referrals",
            "SELECT COUNT(DISTINCT account_id) FROM referral_accounts",
            "SELECT COUNT(*) FROM referral_events WHERE event = 'investigation_opened'",
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM referral_events WHERE event = 'arrest'",
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM referral_events \
             WHERE event = 'children_safeguarded'",
        ];
        let mut conn = self.pool.acquire().await?;
        let mut v = [0u64; 8];
        for (slot, q) in v.iter_mut().zip(QUERIES) {
            let n: i64 = sqlx::query_scalar(q).fetch_one(&mut *conn).await?;
            *slot = u64_of(n);
        }
        Ok(LedgerCounts {
            persons: v[0],
            countries_attributed: v[1],
            referrals: v[2],
            countries_referred: v[3],
            accounts_referred: v[4],
            investigations: v[5],
            arrests: v[6],
            children_safeguarded: v[7],
        })
    }
}
