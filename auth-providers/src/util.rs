//! Small helpers shared by the modules.

/// Longest input echoed in an error message, in characters.
const MAX_ECHO: usize = 200;

/// `text`, cut to [`MAX_ECHO`] characters with a trailing `…` if it was longer.
pub(crate) fn truncated(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::truncated;

    #[test]
    fn truncates_long_text_on_a_char_boundary() {
        assert_eq!(truncated("short"), "short");
        let long = "é".repeat(300);
        let cut = truncated(&long);
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'));
    }
}
