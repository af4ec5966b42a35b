//! `ticketd package-assets DIR` (hidden): the generated files of the Debian
//! package, written into one folder for `scripts/package`:
//!
//! * `man/ticketd.1` (and a page per subcommand) from the clap definitions;
//! * `completions/ticketd.bash`, `completions/_ticketd` (zsh);
//! * `templates/*.txt`: the built-in Russian letters, as editable files;
//! * `config.toml`: `config.example.toml` with the Debian paths (database,
//!   attachments and outbox under `/var/lib/ticketd`, the unit's
//!   `StateDirectory`), an IMAP mailbox for the admin to fill in, and the
//!   templates above switched on.
//!
//! A subcommand of the binary the package ships, not a separate generator:
//! the man page and completions describe exactly that binary, and packaging
//! needs no second build (clap_mangen, clap_complete and roff add ~80 KB of code
//! that stays on disk unless this command runs).

use crate::outbox::texts;
use anyhow::Context;
use clap::CommandFactory;
use std::path::Path;

/// The letters an admin may replace (`[templates]` keys) and their built-in
/// texts. A key the example config offers but this list lacks stops the
/// build of the package, so a new template is not shipped empty.
const TEMPLATES: &[(&str, &str)] = &[
    ("confirmation", texts::CONFIRMATION),
    ("clarification", texts::CLARIFICATION),
    ("too_large", texts::TOO_LARGE),
];

/// Write the package's generated files into `out`.
pub(super) fn write(out: &Path) -> anyhow::Result<()> {
    write_all(out).with_context(|| format!("writing the package's files into `{}`", out.display()))
}

fn write_all(out: &Path) -> anyhow::Result<()> {
    let cmd = super::Cli::command();

    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(cmd.clone(), &man)?;

    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for (shell, file) in [
        (clap_complete::Shell::Bash, "ticketd.bash"),
        (clap_complete::Shell::Zsh, "_ticketd"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "ticketd", &mut buf);
        std::fs::write(completions.join(file), buf)?;
    }

    let templates = out.join("templates");
    std::fs::create_dir_all(&templates)?;
    for (name, text) in TEMPLATES {
        std::fs::write(templates.join(format!("{name}.txt")), text)?;
    }

    std::fs::write(
        out.join("config.toml"),
        packaged_config(crate::config::EXAMPLE).map_err(anyhow::Error::msg)?,
    )?;
    Ok(())
}

/// The example config as the package installs it. Each edit must find its
/// line exactly once: a changed example stops here, not in an admin's file.
fn packaged_config(example: &str) -> Result<String, String> {
    let mut text = example.to_string();
    edit(
        &mut text,
        "# ticketd — example configuration.\n",
        "# ticketd — configuration, as the Debian package installs it.\n\
         #\n\
         # Replace every address and host under example.org (`ticketd check-config`\n\
         # lists them with what to put there), then start the service:\n\
         #   ticketd check-config && systemctl enable --now ticketd\n\
         # The unit refuses to start while an example value is left.\n\
         # ticketd runs as the system user `ticketd` and may write only under\n\
         # /var/lib/ticketd; files it reads here (passwords, keys, templates) must be\n\
         # readable by that user: install -m 0640 -g ticketd ...\n\
         #\n\
         # Below: the example configuration, with Debian's paths.\n",
    )?;
    edit(
        &mut text,
        "path = \"var/ticketd.sqlite3\"",
        "path = \"/var/lib/ticketd/ticketd.sqlite3\"",
    )?;
    edit(
        &mut text,
        "dir = \"var/attachments\"",
        "dir = \"/var/lib/ticketd/attachments\"",
    )?;
    edit(
        &mut text,
        "dir = \"var/outbox\"",
        "dir = \"/var/lib/ticketd/outbox\"",
    )?;
    // The mailbox: IMAP, with the example's host and user for the admin to
    // replace; a Maildir must lie under /var/lib/ticketd, the one folder the
    // unit lets ticketd write (it moves letters from new/ to cur/).
    edit(&mut text,
        "kind = \"maildir\"\n# Maildir root for kind = \"maildir\".\npath = \"var/mail/support\"",
        "kind = \"imap\"\n# Maildir root for kind = \"maildir\": a folder under /var/lib/ticketd (the only\n\
         # place the systemd unit lets ticketd write), filled by the local MTA as user ticketd.\n\
         # path = \"/var/lib/ticketd/Maildir\"",
    )?;
    edit(
        &mut text,
        "# host = \"imap.example.org\"",
        "host = \"imap.example.org\"",
    )?;
    edit(
        &mut text,
        "# user = \"support@sed.example.org\"\n# password_file = \"/etc/ticketd/imap-password\"",
        "user = \"support@sed.example.org\"\npassword_file = \"/etc/ticketd/imap-password\"",
    )?;
    // Every template the example offers is switched on, from the files the
    // package installs with the built-in texts.
    let offered: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains("\"/etc/ticketd/templates/"))
        .map(str::to_string)
        .collect();
    for line in offered {
        let key = line
            .split('=')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !TEMPLATES.iter().any(|(name, _)| *name == key) {
            return Err(format!(
                "config.example.toml offers template `{key}`, which src/cli/assets.rs does not write; add it to TEMPLATES"
            ));
        }
        edit(&mut text, &format!("# {line}"), &line)?;
    }
    Ok(text)
}

/// Replace `from` by `to` in `text`, where `from` must occur exactly once.
fn edit(text: &mut String, from: &str, to: &str) -> Result<(), String> {
    match text.matches(from).count() {
        1 => {
            *text = text.replacen(from, to, 1);
            Ok(())
        }
        n => Err(format!(
            "config.example.toml: expected `{from}` once, found it {n} times; update src/cli/assets.rs"
        )),
    }
}
