use super::*;
use crate::config::{Config, EXAMPLE};

/// The example config with its `[database]` section replaced.
fn load(section: &str) -> Result<Config, crate::config::ConfigError> {
    let start = EXAMPLE.find("[database]\n").unwrap();
    let end = start + EXAMPLE[start..].find("\n[attachments]").unwrap();
    let text = format!(
        "{}[database]\n{section}\n{}",
        &EXAMPLE[..start],
        &EXAMPLE[end..]
    );
    Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x"))
}

/// The error's text and the line it names, which must be the line of
/// `key` in the section.
fn err_line(section: &str, key_text: &str) -> (String, usize) {
    let e = load(section).unwrap_err();
    let text = e.to_string();
    let crate::config::ConfigError::Invalid { line, .. } = e else {
        panic!("not an Invalid error: {text}");
    };
    let start = EXAMPLE.find("[database]\n").unwrap();
    let section_line = EXAMPLE[..start].matches('\n').count() + 1;
    let want = section
        .lines()
        .position(|l| l.trim_start().starts_with(key_text))
        .map_or(section_line, |i| section_line + 1 + i);
    assert_eq!(line, want, "{text}");
    (text, line)
}

#[test]
fn sqlite_stays_the_default_and_postgres_keys_are_read() {
    let c = load("path = \"var/t.sqlite3\"").unwrap();
    assert_eq!(c.database.kind, DatabaseKind::Sqlite);
    assert_eq!(c.database.path, Path::new("/srv/x/var/t.sqlite3"));
    assert!(c.database.postgres().unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "x").unwrap();
    let c = load(&format!(
        "kind = \"postgres\"\nurl = \"postgresql://ticketd@db.example.org/ticketd\"\npassword_file = {:?}\nca_file = {:?}\npool_size = 4",
        pw, ca
    ))
    .unwrap();
    let t = c.database.postgres().unwrap().unwrap();
    assert_eq!(t.password.as_deref(), Some("s3cret"));
    assert_eq!(t.sslmode, SslMode::VerifyFull, "default off loopback");
    assert_eq!(t.pool_size, 4);
    assert!(!format!("{t:?}").contains("s3cret"), "Debug hides it");

    // (url, sslmode given, in force)
    for (url, given, want) in [
        ("postgresql://t@127.0.0.1:5433/d", None, SslMode::Disable),
        ("postgresql://t@localhost/d", None, SslMode::Disable),
        (
            "postgresql://t@%2Frun%2Fpostgresql/d",
            None,
            SslMode::Disable,
        ),
        ("postgresql://t@db.example.org/d", None, SslMode::VerifyFull),
        (
            "postgresql://t@db.example.org/d",
            Some("require"),
            SslMode::Require,
        ),
        (
            "postgresql://t@127.0.0.1/d",
            Some("verify-full"),
            SslMode::VerifyFull,
        ),
    ] {
        let mode = given.map_or(String::new(), |m| format!("sslmode = \"{m}\"\n"));
        let c = load(&format!("kind = \"postgres\"\nurl = \"{url}\"\n{mode}")).unwrap();
        let t = c.database.postgres().unwrap().unwrap();
        assert_eq!(t.sslmode, want, "{url} {given:?}");
        assert_eq!(t.password, None);
        assert_eq!(t.pool_size, DEFAULT_POOL_SIZE);
    }
}

#[test]
fn database_errors_name_file_line_key_and_what_to_do() {
    // (section, the key's text on its line, words the message must hold)
    let cases: &[(&str, &str, &[&str])] = &[
        ("kind = \"postgres\"", "url", &["database.url", "missing key `url`"]),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t:hunter2@db.example.org/d\"",
            "url",
            &["database.url", "password_file", "password_env"],
        ),
        (
            "kind = \"postgres\"\nurl = \"mysql://db/x\"",
            "url",
            &["database.url", "not a PostgreSQL URL"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d?sslmode=require\"",
            "url",
            &["database.url", "`sslmode` key"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\nsslmode = \"disable\"",
            "sslmode",
            &["database.sslmode", "loopback", "db.example.org"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\nsslmode = \"prefer\"",
            "sslmode",
            &["unknown variant `prefer`", "verify-full"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@127.0.0.1/d\"\nca_file = \"/nonexistent/ca.pem\"",
            "ca_file",
            &["database.ca_file", "verify-full"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\nca_file = \"/nonexistent/ca.pem\"",
            "ca_file",
            &["database.ca_file", "does not exist"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\npassword_file = \"/nonexistent/pw\"",
            "password_file",
            &["database.password_file", "does not exist"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\npassword_env = \"TICKETD_TEST_SURELY_UNSET_PG\"",
            "password_env",
            &["database.password_env", "TICKETD_TEST_SURELY_UNSET_PG", "not set"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\npool_size = 0",
            "pool_size",
            &["database.pool_size", "1 to 64"],
        ),
        (
            "kind = \"postgres\"\nurl = \"postgresql://t@db.example.org/d\"\npassword = \"x\"",
            "password",
            &["unknown field `password`"],
        ),
        (
            "path = \"var/t.sqlite3\"\nurl = \"postgresql://t@db.example.org/d\"",
            "url",
            &["database.url", "kind = \"postgres\""],
        ),
        ("busy_timeout_ms = 10", "path", &["database.path", "kind = \"sqlite\""]),
    ];
    for (section, key, words) in cases {
        let (text, _) = err_line(section, key);
        assert!(text.starts_with("c.toml:"), "names the file: {text}");
        for w in *words {
            assert!(text.contains(w), "{section:?}: `{w}` not in: {text}");
        }
        assert!(!text.contains("hunter2"), "never shows a password: {text}");
    }
}

#[test]
fn urls_are_redacted_in_messages() {
    assert_eq!(
        redact("postgresql://t:hunter2@db.example.org/d"),
        "postgresql://t:***@db.example.org/d"
    );
    assert_eq!(redact("postgresql://t@db/d"), "postgresql://t@db/d");
}
