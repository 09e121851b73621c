//! The one error path for mistakes in what the user gave (a file, a flag, a host name).
//!
//! A command returns `Err(UserError::new(..).hint(..).into())`; `main` prints it the way
//! `rdsports_core::diag` prints a diagnostic (`error: ...`, then `  = hint: ...`) and exits 2.
//! Errors that are not the user's (an I/O failure) stay plain `anyhow` errors.

use std::fmt;

/// A mistake in the input, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    message: String,
    hint: Option<String>,
    /// Diagnostics `rdsports_core::diag` rendered already (with the file's lines), printed
    /// as they are.
    rendered: Option<String>,
}

impl UserError {
    /// An error saying `message` (with the file and place in it, when there is one).
    pub fn new(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: None,
            rendered: None,
        }
    }

    /// Diagnostics rendered by `rdsports_core::diag` (`error:`, the place, `= hint:`),
    /// printed as they are; `message` is their one-line summary.
    pub fn rendered(message: impl Into<String>, text: String) -> Self {
        UserError {
            rendered: Some(text),
            ..UserError::new(message)
        }
    }

    /// What to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The text `main` prints: `error: MESSAGE` and `  = hint: HINT`, each ending a line.
    pub fn render(&self) -> String {
        // Messages echo what files said: control characters are escaped, line breaks kept.
        if let Some(text) = &self.rendered {
            return rdsports_core::text::lines(text).into_owned();
        }
        let mut out = format!("error: {}\n", rdsports_core::text::lines(&self.message));
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  = hint: {}\n", rdsports_core::text::lines(hint)));
        }
        out
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_as_core_diagnostics_are() {
        let e = UserError::new("no host \"x\" in d.toml").hint("hosts: a, b");
        assert_eq!(
            e.render(),
            "error: no host \"x\" in d.toml\n  = hint: hosts: a, b\n"
        );
        assert_eq!(UserError::new("bad").render(), "error: bad\n");
        let any: anyhow::Error = e.clone().into();
        assert_eq!(any.downcast_ref::<UserError>(), Some(&e));
    }
}
