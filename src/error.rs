//! Errors written for the person at the terminal: what was wrong, where, and what to do.
//! Every error ends the run with exit code 2; findings are not errors (exit 1).

/// An error of the input or the environment, with where it happened.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A flag, config value or combination that cannot work.
    #[error("{0}")]
    Usage(String),
    /// A source file that cannot be read or is not what it claims to be.
    #[error("{path}: {msg}")]
    Input { path: String, msg: String },
    /// The database could not be reached or read. `origin` never holds a password.
    #[error("database {origin}: {msg}")]
    Db { origin: String, msg: String },
}

impl AuditError {
    pub fn usage(msg: impl Into<String>) -> Self {
        AuditError::Usage(msg.into())
    }
    pub fn input(path: impl Into<String>, msg: impl Into<String>) -> Self {
        AuditError::Input {
            path: path.into(),
            msg: msg.into(),
        }
    }
}

/// Masks the password of a connection URL (`postgres://u:secret@h/db` → `postgres://u:***@h/db`,
/// also `?password=` parameters), so an origin can be printed anywhere.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let rest = &out[auth_start..];
        let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..auth_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                out.replace_range(auth_start + colon + 1..auth_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{base}{}", masked.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        let cases = [
            (
                "postgres://audit:s3cr3t@db.example:5432/fox",
                "postgres://audit:***@db.example:5432/fox",
            ),
            (
                "postgresql://u:p%40ss@h/db?sslmode=require",
                "postgresql://u:***@h/db?sslmode=require",
            ),
            (
                "postgres://h/db?user=u&password=hunter2",
                "postgres://h/db?user=u&password=***",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://u:pw@/db?host=/tmp",
                "postgres://u:***@/db?host=/tmp",
            ),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want);
        }
    }
}
