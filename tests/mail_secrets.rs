//! Where the IMAP password comes from (issue 4: `password_file` or an
//! environment variable; never the config itself), against the real
//! Dovecot: the variable works, a missing variable or a wrong password is
//! an error that names the key to fix.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::daemon::BIN;
use support::{imap, letters, servers, ConfigOpts, PASSWORD, SUPPORT};

const VAR: &str = "TICKETD_TEST_IMAP_PASSWORD";

/// The test config with `password_file` swapped for `password_env`.
fn env_config(name: &str, folder: &str) -> PathBuf {
    let opts = ConfigOpts {
        folder: folder.into(),
        processed_folder: format!("{folder}-done"),
        ..ConfigOpts::default()
    };
    let dir = servers().test_dir(name);
    let path = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let swapped: String = text
        .lines()
        .map(|l| {
            if l.starts_with("password_file") {
                format!("password_env = \"{VAR}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(swapped.contains("password_env"), "{swapped}");
    std::fs::write(&path, swapped).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn run_once(config: &Path, password: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(config)
        .args(["run", "--once"])
        .stdin(Stdio::null())
        .env_remove(VAR);
    if let Some(p) = password {
        cmd.env(VAR, p);
    }
    cmd.output().unwrap_or_else(|e| panic!("{BIN}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn password_from_the_environment() {
    let folder = "secret-in";
    imap::create(SUPPORT, folder);
    imap::append(
        SUPPORT,
        folder,
        &letters::appeal("user1@example.com", "secret-1"),
    );
    let config = env_config("secret-env", folder);

    // Unset: a configuration error (exit 78) naming the key, its line and
    // the variable — at start, before any letter is touched.
    let unset = run_once(&config, None);
    assert_eq!(unset.status.code(), Some(78), "{}", text(&unset));
    let t = text(&unset);
    assert!(
        t.contains(VAR) && t.contains("mailbox.password_env") && t.contains(".toml:"),
        "names the key, its line and the missing variable: {t}"
    );

    let wrong = run_once(&config, Some("not-the-password"));
    assert!(!wrong.status.success(), "{}", text(&wrong));
    let t = text(&wrong);
    assert!(
        t.contains("mailbox.user") && t.contains("password_env"),
        "a refused login says which keys to check: {t}"
    );
    assert_eq!(imap::count(SUPPORT, folder), 1, "nothing taken on failure");

    let ok = run_once(&config, Some(PASSWORD));
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(imap::count(SUPPORT, folder), 0, "{}", text(&ok));
    assert_eq!(imap::count(SUPPORT, &format!("{folder}-done")), 1);
}
