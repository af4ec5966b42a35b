//! ticketd — an e-mail help desk for three-line technical support.
//!
//! # Layout
//!
//! The modules follow the flow of one letter, left to right:
//!
//! `source` → `parse` → `workflow` → `store` → `outbox`
//!
//! * [`source`]: where letters come from — a Maildir watched with inotify,
//!   an IMAP mailbox (IDLE, polling as a fallback), or files / stdin for MTA
//!   pipe delivery. A source hands raw bytes to a [`source::LetterSink`]
//!   (the pipeline) and acknowledges a letter (moves it, flags it) only
//!   after the pipeline has committed it.
//! * [`parse`]: raw RFC 5322 bytes → [`parse::ParsedLetter`]: headers, the
//!   Table 2 form in whatever layout the user's client produced, the cleaned
//!   body text, attachments judged by their bytes. Pure, bounded, never panics.
//! * [`workflow`]: pure decisions over plain data — is this letter a new
//!   appeal, a follow-up, a command, a confirmation, or something to ignore;
//!   the status machine, classification, routing, deadlines on a business
//!   calendar, escalation, loop protection. No I/O, table-tested. Each
//!   event has its deciding function: `intake::decide` (what a letter is),
//!   `follow_up::decide` (which way a letter on a ticket goes), `plan::plan`
//!   (what an engineer's commands change), `user` (what the requester's
//!   words do), `escalate` (the timer); every status change goes through
//!   the table in `status`. `decide::decide` is the one place that turns
//!   an event and the ticket's state into effects as data — field
//!   changes, the status move
//!   checked against the table, history rows, letters to compose (kind,
//!   to whom, facts); `pipeline/carry.rs` applies them and composes the
//!   letters through `outbox`. Decided there: a new appeal (the bound on
//!   new tickets, classification, deadline, the request for missing
//!   fields, routing, the requester's letters), the answer that completes
//!   a form, a letter on a ticket (its way, refusals), the user's letters,
//!   an engineer's commands, the timer; `pipeline` only loads the facts,
//!   calls it and commits.
//! * [`store`]: SQLite in WAL mode, or PostgreSQL, behind one engine seam
//!   ([`store::engine`]: every method written once over a connection of
//!   either engine); the database engine appears nowhere else. The pipeline writes through a [`store::unit::Unit`] (one
//!   letter's rows, committed together, by use-case methods) and reads
//!   through `Store` methods; the typed domain ([`store::tickets::Ticket`]
//!   with `Status`, `Kind`, `Line`, times) is converted to and from rows
//!   here only. The single transaction records a letter as processed
//!   together with everything it caused, so that every letter is handled
//!   exactly once across crashes. Also the outbox table,
//!   quarantine and daemon state (IMAP UIDs, last sync), kept per mailbox
//!   (`mailbox.<name>.…`, [`config::Mailbox::state_key`]).
//!   [`store::pg`]: PostgreSQL's settings (TLS), schema versions for both
//!   engines, `db migrate`, `db copy` of a SQLite desk; on PostgreSQL the
//!   attachment files live in the database ([`store::blobs`]).
//! * [`outbox`]: composing outgoing letters from Russian templates and
//!   delivering queued rows through a [`outbox::Transport`] — `.eml` files or
//!   SMTP — with retries and backoff; a ticket's letters leave from its
//!   mailbox's own address and name ([`outbox::identity`], `[[mailboxes]]`).
//! * [`pipeline`]: glues one letter — or an appeal from another channel,
//!   [`pipeline::submission::Submission`] — through parse → workflow →
//!   store; shared by `ingest`, the Maildir watcher and the IMAP watcher
//!   so they behave the same.
//! * [`daemon`]: the composition root, [`daemon::serve`]`(config, clock,
//!   shutdown)`: the tokio tasks (one intake per mailbox, each with its own
//!   connection, backoff, position and lease; sender; escalation timer) of one
//!   config until a shutdown future completes; [`daemon::serve_with`] also
//!   takes reloaded configs. Signals (SIGTERM/SIGINT stop, SIGHUP reload)
//!   and systemd notify are at the CLI edge (`cli/run.rs`), so a test
//!   starts the daemon in-process.
//! * [`cluster`]: several daemons on one database — the keeper task that
//!   beats the daemons registry and takes, renews or loses the leases
//!   (a mailbox's intake, the leader's timers), starting and stopping the
//!   work each guards; the decision is `workflow::lease::decide`.
//! * [`report`]: typical reports (п. 81.1) — pure code folding the
//!   tickets and facts the store streams into figures, and rendering them
//!   as text, CSV, JSON, HTML; the per-ticket listing; report letters.
//! * [`vitals`]: the daemon's vital signs (`[metrics]`): `/metrics`,
//!   `/healthz`, `/readyz` answered from a snapshot a refresher keeps.
//! * [`web`]: the site's side (`[web]`): the appeal form (`GET /`, `POST
//!   /appeal`) and the requester's signed status link (`/t/<ticket>-<sig>`),
//!   axum on the daemon's runtime; appeals go to the pipeline as a
//!   [`pipeline::submission::Submission`], the link's buttons through the
//!   user's-letter path.
//! * [`oauth2`]: access tokens for `auth = "oauth2"` logins (IMAP and SMTP
//!   XOAUTH2): the refresh-token grant, caching, refresh before expiry and
//!   on a refused login, failures recorded for `ticketd status`.
//! * [`clock`]: where the time comes from — the system's clock, or a manual
//!   one a test sets; an `Arc<dyn Clock>` is passed to everything that reads
//!   the time (pipeline, daemon timers, sender, SMTP, OAuth2, IMAP, CLI).
//!   [`clock::sleep_until`] wakes the daemon's timers when a manual clock
//!   moves past their deadline.
//! * [`desk`]: the desk as it runs, [`desk::Desk`]: the config as written
//!   and the workflow compiled from it, loaded and checked in one step;
//!   what the daemon, the pipeline, the web pages and the CLI hold.
//! * [`config`] and [`cli`] sit at the edges: TOML config with errors that
//!   name file, line and key (its checks live with it; it calls into no
//!   `source` or `outbox` module; `[mailbox]` is one type per kind,
//!   [`config::Mailbox`]); the clap command line.
//! * [`address`] and [`template`]: pure helpers (address comparison after
//!   NFKC; the letter templates' placeholder syntax) with no dependencies.
//!
//! Dependencies run one way: `address`, `template`, `tls` ← `parse` ←
//! `workflow` ← `store` ← `oauth2` ← `config` ← `desk` ← `outbox`, `source` ←
//! `pipeline` ← `report`, `vitals`, `web` ← `cluster` ← `daemon` ← `cli`.

pub mod address;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod daemon;
pub mod desk;
pub mod oauth2;
pub mod outbox;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod source;
pub mod store;
pub mod template;
pub mod tls;
pub mod vitals;
pub mod web;
pub mod workflow;
