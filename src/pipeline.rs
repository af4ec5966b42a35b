//! One letter through parse → workflow → store.
