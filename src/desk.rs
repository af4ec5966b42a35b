//! The desk as it runs: the config as written ([`Config`], plain data from
//! the TOML file) and what was compiled from it ([`Workflow`]: lines,
//! priorities, the business calendar, classification and routing rules,
//! the reply key). Loading a desk reads, checks and compiles in one step,
//! so every error names `file:line: key`; the daemon, the pipeline and the
//! CLI hold an `Arc<Desk>` and never compile anything again.
//!
//! A `Desk` dereferences to its `Config`: `desk.outgoing`, `desk.database`
//! read the sections as written; `desk.workflow` is the compiled part.

use crate::config::{Config, ConfigError};
use crate::workflow::Workflow;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Desk {
    config: Config,
    /// The desk's sections, checked and compiled.
    pub workflow: Workflow,
}

impl Desk {
    /// Read, check and compile a config file.
    pub fn load(path: &Path) -> Result<Desk, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            cause: e,
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Desk::from_str_at(&text, path, &base)
    }

    /// [`Desk::load`] of `text` as if read from `path`; relative paths
    /// resolve against `base`.
    pub fn from_str_at(text: &str, path: &Path, base: &Path) -> Result<Desk, ConfigError> {
        let config = Config::from_str_at(text, path, base)?;
        let workflow = config.compile_workflow(text)?;
        Ok(Desk { config, workflow })
    }

    /// The config as written.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl std::ops::Deref for Desk {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}
