//! `ticketd run`.
