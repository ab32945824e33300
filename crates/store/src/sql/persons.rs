// Persons, attributions and links: the SQL both backends share (see
// `sql/lists.rs` for how it is included).

use crate::persons::{
    AccountDetail, AccountFilter, AccountInfo, AccountPage, AccountRef, AccountSource,
    AttributionRow, LinkCounts, LinkInfo, LinkResult, LinkRow, LinkStore, MemberInfo,
    PersonDetail, PersonInfo, PersonRow, StoredAttribution, UploadPage, UploadSource, Uploaders,
};

/// Rows per multi-row INSERT of persons and attributions: 11 columns ×
/// 1000 rows, far below SQLite's 32766 and PostgreSQL's 65535 parameters.
const PERSON_ROWS: usize = 1000;
/// Link rows per multi-row INSERT: 7 columns × 2000.
const LINK_ROWS: usize = 2000;
/// Ids per `IN (…)` list.
const IN_IDS: usize = 1000;

const ATTRIBUTION_COLUMNS: &str =
    "country, confidence, runner_up, runner_up_share, evidence, shares, computed_at";

/// A JSON column read back through the type that wrote it.
fn json_column<T: serde::de::DeserializeOwned>(r: &DbRow, col: &str) -> Result<T, StoreError> {
    let s: String = r.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn attribution_from_row(r: &DbRow) -> Result<StoredAttribution, StoreError> {
    Ok(StoredAttribution {
        country: r.try_get("country")?,
        confidence: r.try_get("confidence")?,
        runner_up: r.try_get("runner_up")?,
        runner_up_share: r.try_get("runner_up_share")?,
        shares: json_column(r, "shares")?,
        evidence: json_column(r, "evidence")?,
        computed_at: r.try_get("computed_at")?,
    })
}

fn account_ref_from_row(r: &DbRow) -> Result<AccountRef, StoreError> {
    Ok(AccountRef {
        account_id: r.try_get("account_id")?,
        intake_id: r.try_get("intake_id")?,
        report_id: r.try_get("report_id")?,
        provider: r.try_get("provider")?,
        provider_id: r.try_get("provider_id")?,
        username: r.try_get("username")?,
    })
}

fn person_from_row(r: &DbRow) -> Result<PersonInfo, StoreError> {
    let accounts: i64 = r.try_get("accounts")?;
    Ok(PersonInfo {
        id: r.try_get("id")?,
        label: r.try_get("label")?,
        accounts: u64::try_from(accounts).unwrap_or(0),
        attribution: attribution_from_row(r)?,
        members: Vec::new(),
    })
}

const MEMBER_SELECT: &str = "SELECT t.person_id, t.account_id, a.intake_id, i.report_id, i.provider, \
     a.provider_id, a.username, t.country, t.confidence, t.runner_up, t.runner_up_share, t.evidence, \
     t.shares, t.findings, t.computed_at \
     FROM account_attribution t JOIN accounts a ON a.id = t.account_id JOIN intakes i ON i.id = a.intake_id";

/// Members of the given persons (every person when `ids` is `None`),
/// grouped by person id, in account id order.
async fn members_of(
    pool: &sqlx::Pool<Db>,
    ids: Option<&[i64]>,
) -> Result<HashMap<i64, Vec<MemberInfo>>, StoreError> {
    let mut rows = Vec::new();
    match ids {
        None => {
            rows = sqlx::query(AssertSqlSafe(format!(
                "{MEMBER_SELECT} ORDER BY t.person_id, t.account_id"
            )))
            .fetch_all(pool)
            .await?;
        }
        Some(ids) => {
            for chunk in ids.chunks(IN_IDS) {
                let mut qb: QueryBuilder<Db> =
                    QueryBuilder::new(format!("{MEMBER_SELECT} WHERE t.person_id IN ("));
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(") ORDER BY t.person_id, t.account_id");
                rows.extend(qb.build().fetch_all(pool).await?);
            }
        }
    }
    let mut out: HashMap<i64, Vec<MemberInfo>> = HashMap::new();
    for r in &rows {
        let person: Option<i64> = r.try_get("person_id")?;
        let Some(person) = person else { continue };
        out.entry(person).or_default().push(MemberInfo {
            account: account_ref_from_row(r)?,
            attribution: attribution_from_row(r)?,
            findings: json_column(r, "findings")?,
        });
    }
    Ok(out)
}

async fn insert_persons(conn: &mut DbConn, rows: &[PersonRow], now: &str) -> Result<(), StoreError> {
    for chunk in rows.chunks(PERSON_ROWS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO persons (id, label, country, confidence, runner_up, runner_up_share, \
             evidence, shares, accounts, computed_at) ",
        );
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(p.id)
                .push_bind(p.label.clone())
                .push_bind(p.country.clone())
                .push_bind(p.confidence)
                .push_bind(p.runner_up.clone())
                .push_bind(p.runner_up_share)
                .push_bind(p.evidence.clone())
                .push_bind(p.shares.clone())
                .push_bind(i64_of(p.accounts))
                .push_bind(now.to_string());
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_attributions(
    conn: &mut DbConn,
    rows: &[AttributionRow],
    now: &str,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(PERSON_ROWS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO account_attribution (account_id, person_id, country, confidence, runner_up, \
             runner_up_share, evidence, shares, findings, computed_at) ",
        );
        qb.push_values(chunk, |mut b, t| {
            b.push_bind(t.account_id)
                .push_bind(t.person_id)
                .push_bind(t.country.clone())
                .push_bind(t.confidence)
                .push_bind(t.runner_up.clone())
                .push_bind(t.runner_up_share)
                .push_bind(t.evidence.clone())
                .push_bind(t.shares.clone())
                .push_bind(t.findings.clone())
                .push_bind(now.to_string());
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_links(conn: &mut DbConn, rows: &[LinkRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(LINK_ROWS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO account_links (id, a, b, kind, evidence, weight, pair_weight) ",
        );
        qb.push_values(chunk, |mut b, l| {
            b.push_bind(l.id)
                .push_bind(l.a)
                .push_bind(l.b)
                .push_bind(l.kind.clone())
                .push_bind(l.evidence.clone())
                .push_bind(l.weight)
                .push_bind(l.pair_weight);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Account refs (with their person's label) of the accounts whose
/// `column` (`a.id`, `a.provider_id`) is one of `keys`, of intake `intake`
/// only when given.
async fn account_refs_by<K>(
    pool: &sqlx::Pool<Db>,
    column: &str,
    intake: Option<i64>,
    keys: &[K],
) -> Result<Vec<(AccountRef, Option<String>)>, StoreError>
where
    K: for<'q> sqlx::Encode<'q, Db> + sqlx::Type<Db> + Copy + Send,
{
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(IN_IDS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT a.id AS account_id, a.intake_id, i.report_id, i.provider, a.provider_id, a.username, \
             p.label FROM accounts a JOIN intakes i ON i.id = a.intake_id \
             LEFT JOIN account_attribution t ON t.account_id = a.id \
             LEFT JOIN persons p ON p.id = t.person_id WHERE ",
        );
        if let Some(intake) = intake {
            qb.push("a.intake_id = ").push_bind(intake).push(" AND ");
        }
        qb.push(column).push(" IN (");
        let mut sep = qb.separated(", ");
        for key in chunk {
            sep.push_bind(*key);
        }
        qb.push(")");
        for r in qb.build().fetch_all(pool).await? {
            out.push((account_ref_from_row(&r)?, r.try_get("label")?));
        }
    }
    Ok(out)
}

/// Account refs (with their person's label) of the given account ids.
async fn account_refs(
    pool: &sqlx::Pool<Db>,
    ids: &[i64],
) -> Result<HashMap<i64, (AccountRef, Option<String>)>, StoreError> {
    let refs = account_refs_by(pool, "a.id", None, ids).await?;
    Ok(refs.into_iter().map(|r| (r.0.account_id, r)).collect())
}

/// Account refs of one intake's accounts by their provider ids (ids
/// without an account line are left out), by provider id.
async fn account_refs_in_intake(
    pool: &sqlx::Pool<Db>,
    intake_id: i64,
    provider_ids: &[&str],
) -> Result<HashMap<String, AccountRef>, StoreError> {
    let refs = account_refs_by(pool, "a.provider_id", Some(intake_id), provider_ids).await?;
    Ok(refs.into_iter().map(|(a, _)| (a.provider_id.clone(), a)).collect())
}

/// Every link with an end in `ids`, in id order, both ends named;
/// `other_person` is the label of an end's person other than `own`.
async fn links_of(
    pool: &sqlx::Pool<Db>,
    ids: &[i64],
    own: Option<&str>,
) -> Result<Vec<LinkInfo>, StoreError> {
    let mut link_rows = Vec::new();
    for chunk in ids.chunks(IN_IDS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT id, a, b, kind, evidence, weight, pair_weight FROM account_links WHERE a IN (",
        );
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(") OR b IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        link_rows.extend(qb.build().fetch_all(pool).await?);
    }
    let mut raw = Vec::with_capacity(link_rows.len());
    for r in &link_rows {
        let id: i64 = r.try_get("id")?;
        let a: i64 = r.try_get("a")?;
        let b: i64 = r.try_get("b")?;
        let kind: String = r.try_get("kind")?;
        let evidence: String = r.try_get("evidence")?;
        let weight: f64 = r.try_get("weight")?;
        let pair_weight: f64 = r.try_get("pair_weight")?;
        raw.push((id, a, b, kind, evidence, weight, pair_weight));
    }
    raw.sort_by_key(|l| l.0);
    raw.dedup_by_key(|l| l.0);
    let mut ends: Vec<i64> = raw.iter().flat_map(|l| [l.1, l.2]).collect();
    ends.sort_unstable();
    ends.dedup();
    let refs = account_refs(pool, &ends).await?;
    let mut links = Vec::with_capacity(raw.len());
    for (id, a, b, kind, evidence, weight, pair_weight) in raw {
        let (Some((ra, la)), Some((rb, lb))) = (refs.get(&a), refs.get(&b)) else {
            return Err(StoreError::Corrupt(format!("link {id} names a missing account")));
        };
        let other_person = [la, lb]
            .into_iter()
            .flatten()
            .find(|l| Some(l.as_str()) != own)
            .cloned();
        links.push(LinkInfo {
            id,
            kind,
            evidence,
            weight,
            pair_weight,
            a: ra.clone(),
            b: rb.clone(),
            other_person,
        });
    }
    Ok(links)
}

/// An account with its person's label and its attribution, when it has
/// one (every account after the first `tiaki attribute`).
const ACCOUNT_INFO_FROM: &str = "FROM accounts a JOIN intakes i ON i.id = a.intake_id \
     LEFT JOIN account_attribution t ON t.account_id = a.id \
     LEFT JOIN persons p ON p.id = t.person_id";

const ACCOUNT_INFO_COLUMNS: &str = "a.id AS account_id, a.intake_id, i.report_id, i.provider, \
     a.provider_id, a.username, p.label, t.account_id AS attributed, t.country, t.confidence, \
     t.runner_up, t.runner_up_share, t.evidence, t.shares, t.findings, t.computed_at";

fn account_info_from_row(r: &DbRow) -> Result<AccountInfo, StoreError> {
    let attributed: Option<i64> = r.try_get("attributed")?;
    let (attribution, findings) = match attributed {
        Some(_) => (Some(attribution_from_row(r)?), json_column(r, "findings")?),
        None => (None, Vec::new()),
    };
    Ok(AccountInfo {
        account: account_ref_from_row(r)?,
        person: r.try_get("label")?,
        attribution,
        findings,
    })
}

impl LinkStore for Backend {
    async fn account_sources_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AccountSource>, StoreError> {
        if !JSON_PAGES {
            let rows = sqlx::query(
                "SELECT id, intake_id, provider_id, declared_country, data FROM accounts \
                 WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            return rows
                .iter()
                .map(|r| {
                    Ok(AccountSource {
                        id: r.try_get(0)?,
                        intake_id: r.try_get(1)?,
                        provider_id: r.try_get(2)?,
                        declared_country: r.try_get(3)?,
                        data: r.try_get(4)?,
                    })
                })
                .collect();
        }
        // The page as one JSON text (see `json_page`): the rows are chosen
        // by the inner ORDER BY/LIMIT, then aggregated in any order.
        let sql = format!(
            "SELECT CAST((SELECT {JSON_GROUP_ARRAY}({JSON_ARRAY}(a.id, a.intake_id, \
             a.provider_id, a.declared_country, a.data)) \
             FROM (SELECT id, intake_id, provider_id, declared_country, data FROM accounts \
             WHERE id > $1 ORDER BY id LIMIT $2) a) AS TEXT)"
        );
        let text: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_one(&self.pool)
            .await?;
        let items: Vec<(i64, i64, String, Option<String>, String)> =
            parse_page(text.as_deref(), "accounts")?;
        let mut out: Vec<AccountSource> = items
            .into_iter()
            .map(
                |(id, intake_id, provider_id, declared_country, data)| AccountSource {
                    id,
                    intake_id,
                    provider_id,
                    declared_country,
                    data,
                },
            )
            .collect();
        // Either backend may aggregate in any order.
        out.sort_unstable_by_key(|a| a.id);
        Ok(out)
    }

    async fn upload_sources_page(
        &self,
        after: i64,
        limit: u32,
        uploaders: &Uploaders,
    ) -> Result<UploadPage, StoreError> {
        // A sequential read of `media` alone: the uploader is resolved
        // while parsing (see `Uploaders`).
        if !JSON_PAGES {
            let rows = sqlx::query(
                "SELECT id, intake_id, account, upload_ip, uploaded_at, sha256 FROM media \
                 WHERE id > $1 AND (upload_ip IS NOT NULL OR sha256 IS NOT NULL) \
                 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            let mut out = UploadPage {
                uploads: Vec::with_capacity(rows.len()),
                last: None,
            };
            for r in &rows {
                let media_id: i64 = r.try_get(0)?;
                out.last = Some(media_id);
                let account: &str = r.try_get(2)?;
                let Some(account_id) = uploaders.get(r.try_get(1)?, account) else {
                    continue;
                };
                out.uploads.push(UploadSource {
                    media_id,
                    account_id,
                    upload_ip: r.try_get(3)?,
                    uploaded_at: r.try_get(4)?,
                    sha256: digest_of::<32>(r, 5, "SHA-256")?,
                });
            }
            return Ok(out);
        }
        let sql = format!(
            "SELECT CAST((SELECT {JSON_GROUP_ARRAY}({JSON_ARRAY}(u.id, u.intake_id, u.account, \
             u.upload_ip, u.uploaded_at, {})) \
             FROM (SELECT m.id, m.intake_id, m.account, m.upload_ip, m.uploaded_at, m.sha256 \
             FROM media m \
             WHERE m.id > $1 AND (m.upload_ip IS NOT NULL OR m.sha256 IS NOT NULL) \
             ORDER BY m.id LIMIT $2) u) AS TEXT)",
            hex_sql("u.sha256"),
        );
        let text: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_one(&self.pool)
            .await?;
        type UploadTuple<'a> = (
            i64,
            i64,
            std::borrow::Cow<'a, str>,
            Option<String>,
            Option<String>,
            Option<&'a str>,
        );
        let items: Vec<UploadTuple<'_>> = parse_page(text.as_deref(), "uploads")?;
        let mut out = UploadPage {
            uploads: Vec::with_capacity(items.len()),
            last: None,
        };
        for (media_id, intake_id, account, upload_ip, uploaded_at, sha256) in items {
            out.last = out.last.max(Some(media_id));
            let Some(account_id) = uploaders.get(intake_id, &account) else {
                continue;
            };
            out.uploads.push(UploadSource {
                media_id,
                account_id,
                upload_ip,
                uploaded_at,
                sha256: hex_bytes::<32>(sha256, "SHA-256")?,
            });
        }
        // Either backend may aggregate in any order.
        out.uploads.sort_unstable_by_key(|u| u.media_id);
        Ok(out)
    }

    async fn replace_links(&self, result: &LinkResult, now: &Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Children first: attributions name persons.
        for table in ["account_attribution", "account_links", "persons"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
        insert_persons(&mut tx, &result.persons, now.as_str()).await?;
        insert_attributions(&mut tx, &result.attributions, now.as_str()).await?;
        insert_links(&mut tx, &result.links).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn persons(&self, country: Option<&str>) -> Result<Vec<PersonInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, label, accounts, {ATTRIBUTION_COLUMNS} FROM persons \
             WHERE ($1 IS NULL OR country = $1) ORDER BY id"
        )))
        .bind(country)
        .fetch_all(&self.pool)
        .await?;
        let mut persons = rows.iter().map(person_from_row).collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<i64> = persons.iter().map(|p| p.id).collect();
        let mut members = if country.is_some() {
            members_of(&self.pool, Some(&ids)).await?
        } else {
            members_of(&self.pool, None).await?
        };
        for p in &mut persons {
            p.members = members.remove(&p.id).unwrap_or_default();
        }
        Ok(persons)
    }

    async fn person(&self, key: &str) -> Result<Option<PersonDetail>, StoreError> {
        let key = key.trim();
        let by_id = key.parse::<i64>().ok();
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, label, accounts, {ATTRIBUTION_COLUMNS} FROM persons \
             WHERE id = $1 OR label = $2"
        )))
        .bind(by_id.unwrap_or(-1))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut person = person_from_row(&row)?;
        person.members = members_of(&self.pool, Some(&[person.id]))
            .await?
            .remove(&person.id)
            .unwrap_or_default();
        let member_ids: Vec<i64> = person.members.iter().map(|m| m.account.account_id).collect();
        let links = links_of(&self.pool, &member_ids, Some(&person.label)).await?;
        Ok(Some(PersonDetail { person, links }))
    }

    async fn accounts(
        &self,
        filter: &AccountFilter,
        offset: u64,
        limit: u32,
    ) -> Result<AccountPage, StoreError> {
        let person = filter.person.as_deref().map(str::trim);
        let person_id = person.and_then(|p| p.parse::<i64>().ok()).unwrap_or(-1);
        let filter_sql = "WHERE ($1 IS NULL OR a.intake_id = $1) \
             AND ($2 IS NULL OR p.id = $3 OR p.label = $2) AND ($4 IS NULL OR t.country = $4)";
        let mut conn = self.pool.acquire().await?;
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) {ACCOUNT_INFO_FROM} {filter_sql}"
        )))
        .bind(filter.intake)
        .bind(person)
        .bind(person_id)
        .bind(filter.country.as_deref())
        .fetch_one(&mut *conn)
        .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ACCOUNT_INFO_COLUMNS} {ACCOUNT_INFO_FROM} {filter_sql} \
             ORDER BY a.id LIMIT $5 OFFSET $6"
        )))
        .bind(filter.intake)
        .bind(person)
        .bind(person_id)
        .bind(filter.country.as_deref())
        .bind(i64::from(limit))
        .bind(i64_of(offset))
        .fetch_all(&mut *conn)
        .await?;
        Ok(AccountPage {
            total: u64::try_from(total).unwrap_or(0),
            accounts: rows.iter().map(account_info_from_row).collect::<Result<_, _>>()?,
        })
    }

    async fn account(&self, id: i64) -> Result<Option<AccountDetail>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ACCOUNT_INFO_COLUMNS}, a.data {ACCOUNT_INFO_FROM} WHERE a.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let info = account_info_from_row(&row)?;
        let data: String = row.try_get("data")?;
        let data: tiaki_types::model::Account = serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("account {id}: data: {e}")))?;
        let links = links_of(&self.pool, &[id], info.person.as_deref()).await?;
        Ok(Some(AccountDetail { info, data, links }))
    }

    async fn link_counts(&self) -> Result<LinkCounts, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut out = LinkCounts::default();
        for (slot, sql) in [
            (&mut out.accounts, "SELECT COUNT(*) FROM accounts"),
            (&mut out.persons, "SELECT COUNT(*) FROM persons"),
            (&mut out.links, "SELECT COUNT(*) FROM account_links"),
            (
                &mut out.countries,
                "SELECT COUNT(DISTINCT country) FROM account_attribution",
            ),
            (
                &mut out.accounts_without_country,
                "SELECT COUNT(*) FROM accounts a LEFT JOIN account_attribution t \
                 ON t.account_id = a.id WHERE t.country IS NULL",
            ),
            (
                &mut out.accounts_with_findings,
                "SELECT COUNT(*) FROM account_attribution WHERE findings <> '[]'",
            ),
        ] {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut *conn).await?;
            *slot = u64::try_from(n).unwrap_or(0);
        }
        Ok(out)
    }
}
