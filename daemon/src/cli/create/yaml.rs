//! A block-style YAML emitter that writes what go-yaml v2 writes for the JSON of a Go object
//! (as `sigs.k8s.io/yaml` does): mappings of strings only, which is all these objects hold.

/// go-yaml's line width: plain and quoted scalars are folded at a space past it.
const BEST_WIDTH: usize = 80;
/// go-yaml's indentation step.
const BEST_INDENT: usize = 2;

/// A value: a string, or a mapping with its keys in output order.
pub(super) enum Node {
    Scalar(String),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub(super) fn scalar(text: &str) -> Node {
        Node::Scalar(text.to_owned())
    }

    /// A mapping of struct fields, written in go-yaml's key order as flux writes them.
    pub(super) fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::sorted(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A mapping written in go-yaml's key order.
    pub(super) fn sorted(mut entries: Vec<(String, Node)>) -> Node {
        entries.sort_by(|(a, _), (b, _)| super::go_yaml_key_order(a, b));
        Node::Map(entries)
    }

    /// A mapping written in the given order.
    pub(super) fn in_order(entries: Vec<(&str, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// Makes every string what flux's JSON-to-YAML step leaves of it: Go's JSON keeps
/// U+0085 (NEL) and C1 control characters raw, and go-yaml's parser then folds a NEL
/// (with the spaces around it) into one space, or into line breaks when several follow
/// one another, and refuses the control characters. Flux fails on the latter, and so
/// does this.
pub(super) fn through_json(node: &mut Node) -> Result<(), String> {
    match node {
        Node::Scalar(text) => {
            *text = fold_json_string(text)?;
            Ok(())
        }
        Node::Map(entries) => {
            for (key, value) in entries {
                *key = fold_json_string(key)?;
                through_json(value)?;
            }
            Ok(())
        }
    }
}

fn fold_json_string(text: &str) -> Result<String, String> {
    if let Some(c) = text
        .chars()
        .find(|c| matches!(u32::from(*c), 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF))
    {
        return Err(format!(
            "{text:?} contains the control character U+{:04X}, which flux's YAML conversion refuses",
            u32::from(c)
        ));
    }
    if !text.contains('\u{85}') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let run = rest.find([' ', '\u{85}']).unwrap_or(rest.len());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        if rest.is_empty() {
            return Ok(out);
        }
        let (mut whitespace, mut line_break, mut more_breaks) = (0, false, 0);
        let mut at_line_start = false;
        while let Some(c) = rest.chars().next() {
            match c {
                ' ' if line_break => at_line_start = false,
                ' ' => whitespace += 1,
                '\u{85}' if line_break => more_breaks += 1,
                '\u{85}' => {
                    whitespace = 0;
                    line_break = true;
                }
                _ => break,
            }
            if c == '\u{85}' {
                at_line_start = true;
            }
            rest = &rest[c.len_utf8()..];
        }
        if line_break {
            if more_breaks == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', more_breaks));
            }
        } else {
            out.extend(std::iter::repeat_n(' ', whitespace));
        }
        let indicator = rest.starts_with("---") || rest.starts_with("...");
        if at_line_start && indicator && rest[3..].starts_with([' ', '\u{85}']) {
            return Err(format!(
                "{text:?} has \"{}\" after a U+0085 line break, which flux's YAML conversion refuses",
                &rest[..3]
            ));
        }
    }
}

/// Renders a document as flux prints it: the YAML, trimmed, one newline.
pub(super) fn render(root: &Node) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
    };
    match root {
        Node::Map(entries) => emitter.mapping(entries, 0),
        Node::Scalar(text) => emitter.scalar(text, 0, false),
    }
    format!("{}\n", emitter.out.trim_end())
}

/// The emitter's state, as libyaml's: the column, and whether the last thing written was
/// whitespace or indentation.
struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_str(&mut self, text: &str) {
        for c in text.chars() {
            self.put(c);
        }
    }

    /// Copies the character at `*i` and steps over it.
    fn write_char(&mut self, text: &str, i: &mut usize) {
        if let Some(c) = text[*i..].chars().next() {
            self.put(c);
            *i += c.len_utf8();
        }
    }

    /// Copies the line break at `*i`: `\n` as a line break, others as they are.
    fn write_break(&mut self, text: &str, i: &mut usize) {
        if text.as_bytes()[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write_char(text, i);
            self.column = 0;
        }
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// A block mapping whose keys sit at `indent`.
    fn mapping(&mut self, entries: &[(String, Node)], indent: usize) {
        if entries.is_empty() {
            self.write_indicator("{", true, true, false);
            self.write_indicator("}", false, false, false);
            return;
        }
        for (key, value) in entries {
            self.write_indent(indent);
            let simple = !key.contains(is_break_char) && key.len() <= 128;
            if simple {
                self.scalar(key, indent + BEST_INDENT, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar(key, indent + BEST_INDENT, false);
                self.write_indent(indent);
                self.write_indicator(":", true, false, true);
            }
            match value {
                Node::Map(inner) => self.mapping(inner, indent + BEST_INDENT),
                Node::Scalar(text) => self.scalar(text, indent + BEST_INDENT, false),
            }
        }
    }

    /// A scalar; `indent` is where its continuation lines go.
    fn scalar(&mut self, text: &str, indent: usize, simple_key: bool) {
        let requested = if text.contains('\n') {
            Style::Literal
        } else if super::plain_is_string(text) {
            Style::Plain
        } else {
            Style::DoubleQuoted
        };
        let analysis = Analysis::of(text);
        let mut style = requested;
        if simple_key && analysis.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain && (!analysis.block_plain_allowed || (text.is_empty() && simple_key)) {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!analysis.block_allowed || simple_key) {
            style = Style::DoubleQuoted;
        }
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.plain(text, indent, allow_breaks),
            Style::SingleQuoted => self.single_quoted(text, indent, allow_breaks),
            Style::DoubleQuoted => self.double_quoted(text, indent, allow_breaks),
            Style::Literal => self.literal(text, indent),
        }
    }

    fn plain(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        self.folded(text, indent, allow_breaks, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        self.folded(text, indent, allow_breaks, true);
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// The body of a plain or single-quoted scalar: folds at a single space past the line
    /// width, keeps line breaks, and (quoted) doubles `'`. go-yaml v2 writes the two styles
    /// with one difference besides the doubling: a quoted scalar never folds at its first or
    /// last character.
    fn folded(&mut self, text: &str, indent: usize, allow_breaks: bool, quoted: bool) {
        let bytes = text.as_bytes();
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b' ' {
                let inner = !quoted || (i > 0 && i < bytes.len() - 1);
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && inner
                    && bytes.get(i + 1) != Some(&b' ')
                {
                    self.write_indent(indent);
                    i += 1;
                } else {
                    self.write_char(text, &mut i);
                }
                spaces = true;
            } else if is_break(bytes, i) {
                if !breaks && bytes[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(text, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if quoted && bytes[i] == b'\'' {
                    self.put('\'');
                }
                self.write_char(text, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
    }

    fn double_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let bytes = text.as_bytes();
        let escape_all = starts_with_bom(bytes);
        let mut spaces = false;
        let mut i = 0;
        while i < bytes.len() {
            if !is_printable(bytes, i)
                || escape_all
                || is_break(bytes, i)
                || bytes[i] == b'"'
                || bytes[i] == b'\\'
            {
                let Some(c) = text[i..].chars().next() else { break };
                i += c.len_utf8();
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let code = u32::from(c);
                        let escaped = if code <= 0xFF {
                            format!("x{code:02X}")
                        } else if code <= 0xFFFF {
                            format!("u{code:04X}")
                        } else {
                            format!("U{code:08X}")
                        };
                        self.write_str(&escaped);
                    }
                }
                spaces = false;
            } else if bytes[i] == b' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i < bytes.len() - 1 {
                    self.write_indent(indent);
                    if bytes.get(i + 1) == Some(&b' ') {
                        self.put('\\');
                    }
                    i += 1;
                } else {
                    self.write_char(text, &mut i);
                }
                spaces = true;
            } else {
                self.write_char(text, &mut i);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, text: &str, indent: usize) {
        self.write_indicator("|", true, false, false);
        let bytes = text.as_bytes();
        if bytes.first() == Some(&b' ') || is_break(bytes, 0) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut chars = text.chars().rev();
        let last = chars.next();
        let chomp = match last {
            Some(c) if is_break_char(c) => match chars.next() {
                None => Some("+"),
                Some(before) if is_break_char(before) => Some("+"),
                Some(_) => None,
            },
            _ => Some("-"),
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < bytes.len() {
            if is_break(bytes, i) {
                self.write_break(text, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.write_char(text, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// What libyaml's `analyze_scalar` finds out about a string.
#[allow(clippy::struct_excessive_bools, reason = "libyaml's flags, named as there")]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

impl Analysis {
    #[allow(
        clippy::similar_names,
        reason = "libyaml's names: space_break and break_space"
    )]
    fn of(text: &str) -> Analysis {
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return Analysis {
                multiline: false,
                block_plain_allowed: true,
                single_quoted_allowed: true,
                block_allowed: false,
            };
        }
        let mut block_indicators = text.starts_with("---") || text.starts_with("...");
        let (mut line_breaks, mut special_characters) = (false, false);
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let mut i = 0;
        while i < bytes.len() {
            let width = char_width(bytes[i]).max(1);
            let followed_by_whitespace = i + width >= bytes.len() || is_blank(bytes, i + width);
            if i == 0 {
                match bytes[i] {
                    b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
                    | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
                    b'?' | b':' | b'-' if followed_by_whitespace => block_indicators = true,
                    _ => {}
                }
            } else {
                match bytes[i] {
                    b':' if followed_by_whitespace => block_indicators = true,
                    b'#' if preceded_by_whitespace => block_indicators = true,
                    _ => {}
                }
            }
            if !is_printable(bytes, i) {
                special_characters = true;
            }
            if bytes[i] == b' ' {
                leading_space |= i == 0;
                trailing_space |= i + width == bytes.len();
                break_space |= previous_break;
                previous_space = true;
                previous_break = false;
            } else if is_break(bytes, i) {
                line_breaks = true;
                leading_break |= i == 0;
                trailing_break |= i + width == bytes.len();
                space_break |= previous_space;
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blank(bytes, i) || is_break(bytes, i) || bytes[i] == 0;
            i += width;
        }
        let mut analysis = Analysis {
            multiline: line_breaks,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: true,
        };
        if leading_space || leading_break || trailing_space || trailing_break {
            analysis.block_plain_allowed = false;
        }
        if trailing_space {
            analysis.block_allowed = false;
        }
        if break_space {
            analysis.block_plain_allowed = false;
            analysis.single_quoted_allowed = false;
        }
        if space_break || special_characters {
            analysis.block_plain_allowed = false;
            analysis.single_quoted_allowed = false;
            analysis.block_allowed = false;
        }
        if line_breaks || block_indicators {
            analysis.block_plain_allowed = false;
        }
        analysis
    }
}

/// The length of the UTF-8 sequence a byte starts.
fn char_width(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        _ if b & 0xE0 == 0xC0 => 2,
        _ if b & 0xF0 == 0xE0 => 3,
        _ if b & 0xF8 == 0xF0 => 4,
        _ => 0,
    }
}

fn byte(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

fn is_blank(bytes: &[u8], i: usize) -> bool {
    matches!(byte(bytes, i), b' ' | b'\t')
}

fn is_break_char(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_break(bytes: &[u8], i: usize) -> bool {
    let (b0, b1, b2) = (byte(bytes, i), byte(bytes, i + 1), byte(bytes, i + 2));
    b0 == b'\r'
        || b0 == b'\n'
        || (b0 == 0xC2 && b1 == 0x85)
        || (b0 == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9))
}

/// go-yaml's `is_bom(b, i)` looks at the start of the value whatever `i` is, so a value
/// that starts with U+FEFF is written with every character escaped.
fn starts_with_bom(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xEF, 0xBB, 0xBF])
}

/// libyaml's printable set: `\n`, `0x20..=0x7E`, `U+A0..=U+D7FF`, `U+E000..=U+FFFD`
/// less the BOM (so tabs, `\r` and characters beyond the BMP are not).
fn is_printable(bytes: &[u8], i: usize) -> bool {
    let (b0, b1, b2) = (byte(bytes, i), byte(bytes, i + 1), byte(bytes, i + 2));
    b0 == 0x0A
        || (0x20..=0x7E).contains(&b0)
        || (b0 == 0xC2 && b1 >= 0xA0)
        || (b0 > 0xC2 && b0 < 0xED)
        || (b0 == 0xED && b1 < 0xA0)
        || b0 == 0xEE
        || (b0 == 0xEF && !(b1 == 0xBB && b2 == 0xBF) && !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)))
}
