//! Text from input, made safe to print.
//!
//! Names are checked when a scenario is read: no control characters (ANSI escapes, newlines),
//! no bidirectional overrides, at most [`MAX_NAME`] characters. So every name a trace, a mail
//! or the page prints is one line of plain text. Messages that quote input that was *not*
//! checked (an unknown name, a bad schedule token, a file name) quote it with [`quote`], which
//! escapes such characters and truncates.

use crate::limits::MAX_NAME;
use crate::scenario::ScenarioError;

/// Characters that change how a terminal or a browser lays out the text after them.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` in single quotes, control characters escaped (`\u{1b}`), cut after [`MAX_NAME`]
/// characters with an ellipsis.
pub fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in s.chars().enumerate() {
        if i == MAX_NAME {
            out.push('…');
            break;
        }
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn bad(msg: String) -> Result<(), ScenarioError> {
    Err(ScenarioError::new(msg))
}

/// A name: non-empty, at most [`MAX_NAME`] characters, no control characters.
pub fn check_name(name: &str) -> Result<(), ScenarioError> {
    if name.chars().count() > MAX_NAME {
        return bad(format!("the name {} is longer than {MAX_NAME} characters (the limit)", quote(name)));
    }
    if name.chars().any(unsafe_char) {
        return bad(format!("the name {} contains control characters", quote(name)));
    }
    Ok(())
}

/// One line of text of at most `max` characters.
pub fn check_line(what: &str, text: &str, max: usize) -> Result<(), ScenarioError> {
    check_prose(what, text, max)?;
    if text.contains('\n') {
        return bad(format!("the {what} is more than one line"));
    }
    Ok(())
}

/// Text of at most `max` characters whose only control character is the newline.
pub fn check_prose(what: &str, text: &str, max: usize) -> Result<(), ScenarioError> {
    if text.chars().count() > max {
        return bad(format!("the {what} is longer than {max} characters (the limit)"));
    }
    if text.chars().any(|c| c != '\n' && unsafe_char(c)) {
        return bad(format!("the {what} contains control characters"));
    }
    Ok(())
}
