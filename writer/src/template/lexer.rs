//! Splits template text into tokens, as Go's `text/template/parse` lexer does.
//!
//! Text outside `{{ }}` becomes one token; inside an action, every word, literal, operator and
//! run of spaces does. Trim markers (`{{- ` and ` -}}`) are applied here, by cutting the
//! whitespace (spaces, tabs, carriage returns and newlines) off the neighbouring text, and
//! comments (`{{/* … */}}`) vanish here. The first error ends the token list with an
//! [`Kind::Error`] token whose text is Go's message; the parser reports it when it gets there,
//! so errors come out in the same order as Go's.

/// What a token is. Its text is in [`Token::val`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain text outside actions.
    Text,
    /// `{{`.
    LeftDelim,
    /// `}}`.
    RightDelim,
    /// A run of spaces inside an action.
    Space,
    /// `.Name`.
    Field,
    /// A function name.
    Identifier,
    /// `$` or `$name`.
    Variable,
    /// `.` alone.
    Dot,
    /// `true` or `false`.
    Bool,
    /// A number literal.
    Number,
    /// A character literal (`'a'`), which is a number.
    CharConstant,
    /// A `"…"` string, quotes included.
    String,
    /// A `` `…` `` string, quotes included.
    RawString,
    /// `|`.
    Pipe,
    /// `:=`.
    Declare,
    /// `=`.
    Assign,
    /// `(`.
    LeftParen,
    /// `)`.
    RightParen,
    /// Any other printable ASCII character, such as `,`.
    Char,
    /// A keyword (`if`, `range`, `nil`, …), spelled in `val`.
    Keyword,
    /// End of input.
    Eof,
    /// A lexing error; `val` is the message.
    Error,
}

/// One token: its kind, text, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub val: String,
    /// Byte offset in the template text.
    pub pos: usize,
    /// 1-based line of `pos`.
    pub line: usize,
}

impl std::fmt::Display for Token {
    /// How Go's parse errors quote a token: `EOF`, `<else>`, `"}"`, `"long text"...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.val),
            Kind::Keyword | Kind::Dot => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", super::format::quote(&head, false))
            }
            _ => f.write_str(&super::format::quote(&self.val, false)),
        }
    }
}

const KEYWORDS: [&str; 11] = [
    "block", "break", "continue", "define", "else", "end", "if", "nil", "range", "template", "with",
];

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Go's `%#U`: `U+0041 'A'`.
fn unicode_name(c: char) -> String {
    format!("U+{:04X} '{c}'", u32::from(c))
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    /// Start of the token being scanned.
    start: usize,
    tokens: Vec<Token>,
    paren_depth: usize,
    /// Line of `line_pos`, kept incrementally since tokens come in order.
    line: usize,
    line_pos: usize,
}

/// Lexes `input` into tokens ending with [`Kind::Eof`] or [`Kind::Error`].
pub(crate) fn lex(input: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        start: 0,
        tokens: Vec::new(),
        paren_depth: 0,
        line: 1,
        line_pos: 0,
    };
    // A failed step has already pushed its error token.
    let _ = lexer.run();
    lexer.tokens
}

/// The lexer stopped: an error token has been pushed.
struct Stop;

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn line_of(&mut self, pos: usize) -> usize {
        if pos >= self.line_pos {
            self.line += self.input[self.line_pos..pos].matches('\n').count();
        } else {
            self.line -= self.input[pos..self.line_pos].matches('\n').count();
        }
        self.line_pos = pos;
        self.line
    }

    fn emit_at(&mut self, kind: Kind, start: usize, end: usize) {
        let line = self.line_of(start);
        self.tokens.push(Token {
            kind,
            val: self.input[start..end].to_owned(),
            pos: start,
            line,
        });
    }

    fn emit(&mut self, kind: Kind) {
        self.emit_at(kind, self.start, self.pos);
        self.start = self.pos;
    }

    fn error(&mut self, message: String) -> Stop {
        let line = self.line_of(self.start);
        self.tokens.push(Token {
            kind: Kind::Error,
            val: message,
            pos: self.start,
            line,
        });
        Stop
    }

    fn run(&mut self) -> Result<(), Stop> {
        loop {
            // Text up to the next action.
            let Some(offset) = self.rest().find("{{") else {
                if self.pos < self.input.len() {
                    self.emit_at(Kind::Text, self.pos, self.input.len());
                }
                let end = self.input.len();
                self.emit_at(Kind::Eof, end, end);
                return Ok(());
            };
            let delim = self.pos + offset;
            let trim_left = has_left_trim_marker(&self.input[delim + 2..]);
            let text_end = if trim_left {
                self.input[..delim].trim_end_matches(is_space).len().max(self.pos)
            } else {
                delim
            };
            if text_end > self.pos {
                self.emit_at(Kind::Text, self.pos, text_end);
            }
            self.pos = delim;
            self.start = delim;
            self.left_delim(trim_left)?;
        }
    }

    fn left_delim(&mut self, trim_left: bool) -> Result<(), Stop> {
        let after_marker = if trim_left { 2 } else { 0 };
        if self.input[self.pos + 2 + after_marker..].starts_with("/*") {
            self.pos += 2 + after_marker;
            self.start = self.pos;
            return self.comment();
        }
        self.pos += 2;
        self.emit(Kind::LeftDelim);
        self.pos += after_marker;
        self.start = self.pos;
        self.paren_depth = 0;
        self.inside_action()
    }

    fn comment(&mut self) -> Result<(), Stop> {
        let Some(end) = self.rest().find("*/") else {
            return Err(self.error("unclosed comment".to_owned()));
        };
        self.pos += end + 2;
        let Some(trim_right) = self.at_right_delim() else {
            return Err(self.error("comment ends before closing delimiter".to_owned()));
        };
        self.pos += if trim_right { 4 } else { 2 };
        if trim_right {
            self.skip_leading_space();
        }
        self.start = self.pos;
        Ok(())
    }

    fn skip_leading_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_space).len();
    }

    /// `Some(trim)` if a right delimiter (`}}`, or ` -}}` when `trim`) starts here.
    fn at_right_delim(&self) -> Option<bool> {
        let rest = self.rest();
        if rest.starts_with("}}") {
            Some(false)
        } else if has_right_trim_marker(rest) && rest[2..].starts_with("}}") {
            Some(true)
        } else {
            None
        }
    }

    fn inside_action(&mut self) -> Result<(), Stop> {
        loop {
            if let Some(trim_right) = self.at_right_delim() {
                if self.paren_depth > 0 {
                    return Err(self.error("unclosed left paren".to_owned()));
                }
                self.right_delim(trim_right);
                return Ok(());
            }
            let Some(c) = self.next() else {
                return Err(self.error("unclosed action".to_owned()));
            };
            match c {
                c if is_space(c) => self.space(),
                '=' => self.emit(Kind::Assign),
                ':' => {
                    if self.next() != Some('=') {
                        return Err(self.error("expected :=".to_owned()));
                    }
                    self.emit(Kind::Declare);
                }
                '|' => self.emit(Kind::Pipe),
                '"' => self.quote()?,
                '`' => self.raw_quote()?,
                '$' => self.field_or_variable(Kind::Variable)?,
                '\'' => self.char_constant()?,
                '.' if self.peek().is_some_and(|c| !c.is_ascii_digit()) => {
                    self.field_or_variable(Kind::Field)?;
                }
                '.' | '+' | '-' | '0'..='9' => self.number()?,
                c if is_alphanumeric(c) => self.identifier()?,
                '(' => {
                    self.emit(Kind::LeftParen);
                    self.paren_depth += 1;
                }
                ')' => {
                    // Go emits the parenthesis before complaining, so the parser usually
                    // reports it first (`unexpected ")" in command`).
                    self.emit(Kind::RightParen);
                    if self.paren_depth == 0 {
                        return Err(self.error(format!("unexpected right paren {}", unicode_name(c))));
                    }
                    self.paren_depth -= 1;
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
                c => {
                    return Err(self.error(format!("unrecognized character in action: {}", unicode_name(c))));
                }
            }
        }
    }

    fn right_delim(&mut self, trim_right: bool) {
        if trim_right {
            self.pos += 2;
            self.start = self.pos;
        }
        self.pos += 2;
        self.emit(Kind::RightDelim);
        if trim_right {
            self.skip_leading_space();
        }
        self.start = self.pos;
    }

    /// A run of spaces; the first one has been consumed. A space that starts ` -}}` is left for
    /// the delimiter.
    fn space(&mut self) {
        let mut count = 1;
        while self.peek().is_some_and(is_space) {
            self.next();
            count += 1;
        }
        let last = self.pos - 1;
        if has_right_trim_marker(&self.input[last..]) && self.input[last + 2..].starts_with("}}") {
            self.pos = last;
            if count == 1 {
                return;
            }
        }
        self.emit(Kind::Space);
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) => {
                is_space(c) || matches!(c, '.' | ',' | '|' | ':' | ')' | '(') || self.rest().starts_with("}}")
            }
        }
    }

    fn field_or_variable(&mut self, kind: Kind) -> Result<(), Stop> {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return Ok(());
        }
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return Err(self.error(format!("bad character {}", unicode_name(c))));
        }
        self.emit(kind);
        Ok(())
    }

    fn identifier(&mut self) -> Result<(), Stop> {
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return Err(self.error(format!("bad character {}", unicode_name(c))));
        }
        let word = &self.input[self.start..self.pos];
        let kind = if KEYWORDS.contains(&word) {
            Kind::Keyword
        } else if word == "true" || word == "false" {
            Kind::Bool
        } else {
            Kind::Identifier
        };
        self.emit(kind);
        Ok(())
    }

    fn char_constant(&mut self) -> Result<(), Stop> {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return Err(self.error("unterminated character constant".to_owned()));
                    }
                }
                None | Some('\n') => {
                    return Err(self.error("unterminated character constant".to_owned()));
                }
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::CharConstant);
        Ok(())
    }

    fn accept(&mut self, valid: &str) -> bool {
        if self.peek().is_some_and(|c| valid.contains(c)) {
            self.next();
            true
        } else {
            false
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    /// A number: the sign or first character has been consumed (and is backed up over here).
    fn number(&mut self) -> Result<(), Stop> {
        self.pos = self.start;
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self
            .peek()
            .is_some_and(|c| is_alphanumeric(c) || c == '+' || c == '-')
        {
            self.next();
            let text = self.input[self.start..self.pos].to_owned();
            return Err(self.error(format!(
                "bad number syntax: {}",
                super::format::quote(&text, false)
            )));
        }
        self.emit(Kind::Number);
        Ok(())
    }

    fn quote(&mut self) -> Result<(), Stop> {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return Err(self.error("unterminated quoted string".to_owned()));
                    }
                }
                None | Some('\n') => {
                    return Err(self.error("unterminated quoted string".to_owned()));
                }
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        Ok(())
    }

    fn raw_quote(&mut self) -> Result<(), Stop> {
        loop {
            match self.next() {
                None => return Err(self.error("unterminated raw quoted string".to_owned())),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        Ok(())
    }
}

/// `{{- ` (the `{{` already matched): a minus followed by a space character.
fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(char::from(b[1]))
}

/// ` -` before `}}`.
fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(char::from(b[0])) && b[1] == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(Kind, String)> {
        lex(input).into_iter().map(|t| (t.kind, t.val)).collect()
    }

    #[test]
    fn text_and_actions() {
        use Kind::*;
        assert_eq!(
            kinds("a {{ .A.B | printf \"%s\" $x }}b"),
            vec![
                (Text, "a ".into()),
                (LeftDelim, "{{".into()),
                (Space, " ".into()),
                (Field, ".A".into()),
                (Field, ".B".into()),
                (Space, " ".into()),
                (Pipe, "|".into()),
                (Space, " ".into()),
                (Identifier, "printf".into()),
                (Space, " ".into()),
                (String, "\"%s\"".into()),
                (Space, " ".into()),
                (Variable, "$x".into()),
                (Space, " ".into()),
                (RightDelim, "}}".into()),
                (Text, "b".into()),
                (Eof, std::string::String::new()),
            ]
        );
    }

    #[test]
    fn trim_markers_cut_whitespace_including_newlines() {
        use Kind::*;
        assert_eq!(
            kinds("a \n\t{{- 3 -}}\n\n b"),
            vec![
                (Text, "a".into()),
                (LeftDelim, "{{".into()),
                (Number, "3".into()),
                (RightDelim, "}}".into()),
                (Text, "b".into()),
                (Eof, std::string::String::new()),
            ]
        );
        // `{{-3}}` is the number -3, not a trim marker.
        assert_eq!(kinds("a {{-3}}")[2], (Number, "-3".into()));
        assert_eq!(kinds("a {{-3}}")[0], (Text, "a ".into()));
    }

    #[test]
    fn comments_vanish_and_trim() {
        use Kind::*;
        assert_eq!(
            kinds("a  {{- /* x\ny */ -}}  b{{/**/}}c"),
            vec![
                (Text, "a".into()),
                (Text, "b".into()),
                (Text, "c".into()),
                (Eof, std::string::String::new())
            ]
        );
        assert_eq!(
            lex("{{/* x */ .A}}").last().map(|t| t.val.clone()).as_deref(),
            Some("comment ends before closing delimiter")
        );
        assert_eq!(
            lex("{{/* x").last().map(|t| t.val.clone()).as_deref(),
            Some("unclosed comment")
        );
    }

    #[test]
    fn keywords_literals_and_lines() {
        use Kind::*;
        let tokens = lex("x\ny{{ range $i, $v := . }}{{ 'a' 1.5e3 0x1F true nil `r\naw` }}");
        let kinds: Vec<Kind> = tokens
            .iter()
            .map(|t| t.kind)
            .filter(|k| *k != Kind::Space)
            .collect();
        assert_eq!(
            kinds,
            vec![
                Text,
                LeftDelim,
                Keyword,
                Variable,
                Char,
                Variable,
                Declare,
                Dot,
                RightDelim,
                LeftDelim,
                CharConstant,
                Number,
                Number,
                Bool,
                Keyword,
                RawString,
                RightDelim,
                Eof
            ]
        );
        assert_eq!(tokens[1].line, 2);
        assert_eq!(tokens.last().map(|t| t.line), Some(3));
    }

    #[test]
    fn errors_are_go_messages() {
        let last = |s: &str| lex(s).last().map(|t| (t.val.clone(), t.line));
        assert_eq!(last("{{ .A"), Some(("unclosed action".into(), 1)));
        assert_eq!(
            last("\n{{ \"abc }}"),
            Some(("unterminated quoted string".into(), 2))
        );
        assert_eq!(last("{{ (.A }}"), Some(("unclosed left paren".into(), 1)));
        assert_eq!(
            last("{{ .A) }}"),
            Some(("unexpected right paren U+0029 ')'".into(), 1))
        );
        assert_eq!(
            lex("{{ .A) }}").iter().rev().nth(1).map(|t| t.kind),
            Some(Kind::RightParen)
        );
        assert_eq!(last("{{ 3x }}"), Some(("bad number syntax: \"3x\"".into(), 1)));
        assert_eq!(last("{{ .A# }}"), Some(("bad character U+0023 '#'".into(), 1)));
        assert_eq!(last("{{ a : b }}"), Some(("expected :=".into(), 1)));
        assert_eq!(
            last("{{ \u{7} }}"),
            Some(("unrecognized character in action: U+0007 '\u{7}'".into(), 1))
        );
    }

    #[test]
    fn token_display_is_gos() {
        let t = |kind, val: &str| Token {
            kind,
            val: val.into(),
            pos: 0,
            line: 1,
        };
        assert_eq!(t(Kind::Char, "}").to_string(), "\"}\"");
        assert_eq!(t(Kind::Keyword, "else").to_string(), "<else>");
        assert_eq!(t(Kind::Eof, "").to_string(), "EOF");
        assert_eq!(t(Kind::Text, "hello world!").to_string(), "\"hello worl\"...");
    }
}
