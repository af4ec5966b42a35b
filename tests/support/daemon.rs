//! The ticketd binary under test: `ticketd run` as a child process (its own
//! process group, a pid file the reaper knows, log to a file), signals, and
//! one-shot commands.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::servers;

pub const BIN: &str = env!("CARGO_BIN_EXE_ticketd");

/// Run `ticketd --config CONFIG ARGS...` to completion.
pub fn ticketd(config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
    pidfile: PathBuf,
}

impl Daemon {
    /// Start `ticketd run` with `config`; its log goes next to the config.
    pub fn start(config: &Path) -> Daemon {
        use std::os::unix::process::CommandExt;
        let dir = config.parent().unwrap_or(Path::new("."));
        let log = dir.join("daemon.log");
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .arg("run")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pidfile = servers()
            .dir
            .join(format!("daemon-{name}-{}.pid", child.id()));
        let _ = fs::write(&pidfile, child.id().to_string());
        Daemon {
            child: Some(child),
            log,
            pidfile,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn signal(&self, sig: &str) {
        super::signal_pid(&self.pid().to_string(), sig);
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = fs::remove_file(&self.pidfile);
    }

    /// Still running?
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Wait up to `timeout` for the daemon to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                let _ = fs::remove_file(&self.pidfile);
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log_text().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Daemon {
    /// SIGTERM; the daemon must exit 0 within 10 s (the bound).
    pub fn stop(mut self) {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "SIGTERM: no clean exit within 10 s ({status:?}); log:\n{}",
            self.log_text()
        );
    }
}

/// A daemon watching `opts.folder` of the support mailbox (created) with
/// the test config in a fresh directory `name`, once it has connected.
pub fn start_connected(name: &str, opts: &super::ConfigOpts) -> (PathBuf, Daemon) {
    super::imap::create(super::SUPPORT, &opts.folder);
    let dir = servers().test_dir(name);
    let config = servers().write_config(&dir, opts);
    let daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "daemon did not connect; log:\n{}",
        daemon.log_text()
    );
    (config, daemon)
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}
