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
    // From the last span back, so the earlier ones keep their offsets.
    for r in password_spans(url).into_iter().rev() {
        out.replace_range(r, "***");
    }
    out
}

/// The byte ranges of a connection URL's passwords: the userinfo's, and each `password=`
/// parameter's value.
fn password_spans(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    if let Some(scheme_end) = url.find("://") {
        let auth_start = scheme_end + 3;
        let rest = &url[auth_start..];
        let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..auth_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                out.push(auth_start + colon + 1..auth_start + at);
            }
        }
    }
    if let Some(q) = url.find('?') {
        let mut at = q + 1;
        for kv in url[q + 1..].split('&') {
            if let Some((k, v)) = kv.split_once('=') {
                if k.eq_ignore_ascii_case("password") {
                    let from = at + k.len() + 1;
                    out.push(from..from + v.len());
                }
            }
            at += kv.len() + 1;
        }
    }
    out
}

/// The passwords this run could print by accident: from `--db URL` on the command line,
/// `DATABASE_URL` and `PGPASSWORD` (each as written and percent-decoded). Used to scrub the
/// last-resort messages (a panic, an error from deep inside a library) before they are printed.
#[derive(Debug, Default, Clone)]
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn from_env_and_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let mut urls: Vec<String> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if a == "--db" {
                urls.extend(args.get(i + 1).cloned());
            } else if let Some(u) = a.strip_prefix("--db=") {
                urls.push(u.to_string());
            }
        }
        urls.extend(std::env::var("DATABASE_URL").ok());
        let mut found: Vec<String> = urls.iter().flat_map(|u| url_passwords(u)).collect();
        found.extend(std::env::var("PGPASSWORD").ok());
        Secrets::new(found)
    }

    pub fn new(found: impl IntoIterator<Item = String>) -> Self {
        let mut all: Vec<String> = Vec::new();
        for s in found {
            let decoded = percent_decode(&s);
            all.push(s);
            all.push(decoded);
        }
        // Longest first, so a password containing another is replaced whole.
        all.retain(|s| !s.is_empty());
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        all.dedup();
        Secrets(all)
    }

    /// `text` with every URL's password masked and every known secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text
            .split_inclusive(char::is_whitespace)
            .map(|w| {
                if w.contains("://") {
                    redact_url(w)
                } else {
                    w.to_string()
                }
            })
            .collect::<String>();
        for s in &self.0 {
            out = out.replace(s.as_str(), "***");
        }
        out
    }
}

/// The password parts of a connection URL (userinfo and `password=` parameters).
fn url_passwords(url: &str) -> Vec<String> {
    password_spans(url)
        .into_iter()
        .map(|r| url[r].to_string())
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[test]
    fn scrub_masks_urls_and_known_secrets_in_any_text() {
        let s = Secrets::new(["p%40ss".to_string(), "hunter2".to_string()]);
        let text = "failed at postgres://u:p%40ss@h/db with p@ss and hunter2; PGPASSWORD=hunter2";
        let got = s.scrub(text);
        assert!(
            !got.contains("p@ss") && !got.contains("p%40ss") && !got.contains("hunter2"),
            "{got}"
        );
        assert!(got.contains("postgres://u:***@h/db"), "{got}");
        assert_eq!(
            url_passwords("postgres://h/db?user=u&password=x1"),
            vec!["x1".to_string()]
        );
        assert_eq!(percent_decode("a%2Fb%"), "a/b%");
    }
}
