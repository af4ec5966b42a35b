//! The conversation at the desk (issue 13), as a table: an event in a
//! state → the letters sent to whom, the status, the deadline. Each row is
//! played in-process on the example config with a manual clock; what left
//! the desk is read from the outbox table.
//!
//! | theme | module |
//! |---|---|
//! | messages that must arrive (items 1–3) | `conversation/arrive.rs` |
//! | commands as engineers write them (item 6) | `conversation/commands.rs` |
//! | the clock and the clarification (items 7, 9) | `conversation/clock.rs` |
//! | the form as users send it: an introductory line, an Outlook forward (items 9, 14) | `conversation/forms.rs` |
//! | the assignee, reminders, the 1st line, closing (items 4, 5, 10, 11) | `conversation/first_line.rs` |
//! | refusals and threading (items 13, 14) | `conversation/threads.rs` |
//! | the user's words (item 12) | `conversation/words.rs` |
//! | engineers' letters thread; details in the letters (items 14, 15) | `conversation/details.rs` |
//! | details on the command line (item 15) | `conversation/details_cli.rs` |
//! | appeals from the site's form or a phone call (`Pipeline::submit`) | `conversation/appeal.rs` |
//! | a call registered by a 1st-line engineer's letter to their registration address | `conversation/phone.rs` |

mod common;

#[path = "conversation/harness.rs"]
mod harness;

#[path = "conversation/appeal.rs"]
mod appeal;
#[path = "conversation/arrive.rs"]
mod arrive;
#[path = "conversation/clock.rs"]
mod clock;
#[path = "conversation/commands.rs"]
mod commands;
#[path = "conversation/details.rs"]
mod details;
#[path = "conversation/details_cli.rs"]
mod details_cli;
#[path = "conversation/first_line.rs"]
mod first_line;
#[path = "conversation/forms.rs"]
mod forms;
#[path = "conversation/phone.rs"]
mod phone;
#[path = "conversation/threads.rs"]
mod threads;
#[path = "conversation/words.rs"]
mod words;
