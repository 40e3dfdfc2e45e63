//! The parser, following Go's `text/template/parse` grammar and messages.
//!
//! Errors name the template and the line of the last token read, as Go's do
//! (`template: message:3: unexpected "}" in operand`). Functions are checked here, so an unknown
//! one is a parse error (`function "x" not defined`), and so are variables
//! (`undefined variable "$x"`).

use std::collections::BTreeMap;

use super::ParseError;
use super::ast::{Arg, Command, Control, Node, Pipe};
use super::funcs;
use super::lexer::{Kind, Token, lex};
use super::literal::{Number, unquote};

/// How deeply actions and parentheses may nest. Go has no limit; a limit here keeps a hostile
/// template from exhausting the stack.
const MAX_NESTING: usize = 100;

/// Go's `parse.IsEmptyTree`: only whitespace text (comments are already gone).
fn is_empty_tree(list: &[Node]) -> bool {
    list.iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim_matches(|c: char| c.is_whitespace()).is_empty()))
}

/// A node, or what ends an item list.
enum Item {
    Node(Node),
    End(End),
}

/// What ends an item list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// `{{end}}`.
    End,
    /// `{{else}}`; for `{{else if …}}` and `{{else with …}}` the keyword is left unread.
    Else,
}

struct Parser<'a> {
    name: &'a str,
    text: &'a str,
    tokens: Vec<Token>,
    /// Index of the next token.
    next: usize,
    /// Index of the last token read, whose line errors report (Go's `t.token[0]`).
    last: usize,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    depth: usize,
    trees: BTreeMap<String, Vec<Node>>,
}

type Result<T> = std::result::Result<T, ParseError>;

/// Parses `text` into the trees it defines: `name` for the body, plus each `define` and `block`.
pub(crate) fn parse(name: &str, text: &str) -> Result<BTreeMap<String, Vec<Node>>> {
    let mut p = Parser {
        name,
        text,
        tokens: lex(text),
        next: 0,
        last: 0,
        vars: vec!["$".to_owned()],
        range_depth: 0,
        action_line: 0,
        depth: 0,
        trees: BTreeMap::new(),
    };
    let root = p.parse_root()?;
    p.add(name.to_owned(), root)?;
    Ok(p.trees)
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        let token = &self.tokens[self.last.min(self.tokens.len().saturating_sub(1))];
        let pos = token.pos.min(self.text.len());
        ParseError {
            name: self.name.to_owned(),
            line: token.line,
            column: pos - self.text[..pos].rfind('\n').map_or(0, |i| i + 1),
            message: message.into(),
        }
    }

    fn next_token(&mut self) -> Token {
        // The token list always ends with Eof or Error; never read past it.
        let i = self.next.min(self.tokens.len() - 1);
        self.next = i + 1;
        self.last = i;
        self.tokens[i].clone()
    }

    fn backup(&mut self) {
        self.next -= 1;
    }

    fn peek(&mut self) -> Token {
        let t = self.next_token();
        self.backup();
        t
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next_token();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn is_keyword(t: &Token, word: &str) -> bool {
        t.kind == Kind::Keyword && t.val == word
    }

    fn unexpected(&self, token: &Token, context: &str) -> ParseError {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_owned();
                }
            }
            return self.error(format!("{}{extra}", token.val));
        }
        self.error(format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Result<Token> {
        let token = self.next_non_space();
        if token.kind == kind {
            Ok(token)
        } else {
            Err(self.unexpected(&token, context))
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(format!("nesting deeper than {MAX_NESTING} levels")));
        }
        Ok(())
    }

    fn add(&mut self, name: String, list: Vec<Node>) -> Result<()> {
        match self.trees.get(&name) {
            Some(existing) if !is_empty_tree(existing) => {
                if !is_empty_tree(&list) {
                    return Err(self.error(format!(
                        "template: multiple definition of template {}",
                        super::format::quote(&name, false)
                    )));
                }
            }
            _ => {
                self.trees.insert(name, list);
            }
        }
        Ok(())
    }

    fn parse_root(&mut self) -> Result<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let at = self.next;
                self.next_token();
                if Self::is_keyword(&self.next_non_space(), "define") {
                    self.parse_definition()?;
                    continue;
                }
                self.next = at;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End(End::End) => return Err(self.error("unexpected {{end}}")),
                Item::End(End::Else) => return Err(self.error("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    /// `{{define "name"}} … {{end}}`, the keyword read.
    fn parse_definition(&mut self) -> Result<()> {
        const CONTEXT: &str = "define clause";
        let token = self.next_non_space();
        if !matches!(token.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&token, CONTEXT));
        }
        let name = self.unquote(&token.val)?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let (list, end) = self.in_new_scope(Self::item_list)?;
        if end != End::End {
            return Err(self.error(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add(name, list)
    }

    /// Runs `f` as Go parses a new tree: only `$` defined, outside any range.
    fn in_new_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_owned()]);
        let range_depth = std::mem::replace(&mut self.range_depth, 0);
        let result = f(self);
        self.vars = vars;
        self.range_depth = range_depth;
        result
    }

    /// Nodes up to `{{end}}` or `{{else}}`, which is returned separately.
    fn item_list(&mut self) -> Result<(Vec<Node>, End)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End(end) => return Ok((list, end)),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> Result<Item> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Text => Ok(Item::Node(Node::Text(token.val))),
            Kind::LeftDelim => {
                let outer = std::mem::replace(&mut self.action_line, token.line);
                let item = self.action();
                self.action_line = outer;
                item
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> Result<Item> {
        let token = self.next_non_space();
        if token.kind == Kind::Keyword {
            match token.val.as_str() {
                "block" => return self.block_control().map(Item::Node),
                "break" | "continue" => return self.loop_control(&token).map(Item::Node),
                "else" => return self.else_control(),
                "end" => {
                    self.expect(Kind::RightDelim, "end")?;
                    return Ok(Item::End(End::End));
                }
                "if" => return self.control("if").map(|c| Item::Node(Node::If(c))),
                "range" => return self.control("range").map(|c| Item::Node(Node::Range(c))),
                "template" => return self.template_control().map(Item::Node),
                "with" => return self.control("with").map(|c| Item::Node(Node::With(c))),
                _ => {}
            }
        }
        self.backup();
        let pos = self.peek().pos;
        // Variables declared here persist until the end of the enclosing control.
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action { pos, pipe }))
    }

    fn loop_control(&mut self, keyword: &Token) -> Result<Node> {
        let context = format!("{{{{{}}}}}", keyword.val);
        let token = self.next_non_space();
        if token.kind != Kind::RightDelim {
            return Err(self.unexpected(&token, &context));
        }
        if self.range_depth == 0 {
            return Err(self.error(format!("{context} outside {{{{range}}}}")));
        }
        Ok(if keyword.val == "break" {
            Node::Break { pos: keyword.pos }
        } else {
            Node::Continue { pos: keyword.pos }
        })
    }

    fn else_control(&mut self) -> Result<Item> {
        let peek = self.peek_non_space();
        if Self::is_keyword(&peek, "if") || Self::is_keyword(&peek, "with") {
            // `{{else if …}}` is `{{else}}{{if …}}…{{end}}{{end}}` with one `{{end}}`.
            return Ok(Item::End(End::Else));
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Item::End(End::Else))
    }

    fn control(&mut self, context: &str) -> Result<Control> {
        self.enter()?;
        let vars = self.vars.len();
        let result = self.control_inner(context);
        self.vars.truncate(vars);
        self.depth -= 1;
        result
    }

    fn control_inner(&mut self, context: &str) -> Result<Control> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let pos = pipe.pos;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = listed?;
        let else_list = match next {
            End::End => None,
            End::Else => {
                let peek = self.peek();
                if (context == "if" || context == "with") && Self::is_keyword(&peek, context) {
                    self.next_token();
                    let chained = self.control(context)?;
                    // The chained control consumed the one `{{end}}`.
                    Some(vec![if context == "if" {
                        Node::If(chained)
                    } else {
                        Node::With(chained)
                    }])
                } else {
                    let (else_list, next) = self.item_list()?;
                    if next != End::End {
                        return Err(self.error("expected end; found {{else}}"));
                    }
                    Some(else_list)
                }
            }
        };
        Ok(Control {
            pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, context: &str) -> Result<(Token, String)> {
        let token = self.next_non_space();
        if !matches!(token.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&token, context));
        }
        let name = self.unquote(&token.val)?;
        Ok((token, name))
    }

    /// `{{block "name" pipeline}} … {{end}}`: defines the template and calls it.
    fn block_control(&mut self) -> Result<Node> {
        const CONTEXT: &str = "block clause";
        let (token, name) = self.template_name(CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        self.enter()?;
        let (list, end) = self.in_new_scope(Self::item_list)?;
        self.depth -= 1;
        if end != End::End {
            return Err(self.error(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> Result<Node> {
        const CONTEXT: &str = "template clause";
        let (token, name) = self.template_name(CONTEXT)?;
        let pipe = if self.next_non_space().kind == Kind::RightDelim {
            None
        } else {
            self.backup();
            Some(self.pipeline(CONTEXT, Kind::RightDelim)?)
        };
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let token = self.next_non_space();
            if token.kind == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match token.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                Kind::Keyword if token.val == "nil" => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    /// `$x :=`, `$x =`, or in a range `$i, $v :=`.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> Result<()> {
        loop {
            let at = self.next;
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                return Ok(());
            }
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    return Ok(());
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        let peek = self.peek_non_space();
                        if matches!(peek.kind, Kind::Variable | Kind::RightDelim | Kind::RightParen) {
                            continue;
                        }
                        return Err(self.error("range can only initialize variables"));
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    // An ordinary operand: read it again as one.
                    self.next = at;
                    return Ok(());
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<()> {
        if pipe.cmds.is_empty() {
            return Err(self.error(format!("missing value for {context}")));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number { .. }
                        | Arg::String { .. }
                )
            ) {
                return Err(self.error(format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> Result<Command> {
        let mut cmd = Command {
            pos: self.peek_non_space().pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let token = self.next_token();
            match token.kind {
                Kind::Space => {}
                Kind::RightDelim | Kind::RightParen => {
                    self.backup();
                    break;
                }
                Kind::Pipe => break,
                _ => return Err(self.unexpected(&token, "operand")),
            }
        }
        if cmd.args.is_empty() {
            return Err(self.error("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            fields.push(self.next_token().val[1..].to_owned());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return Err(self.error(format!(
                    "unexpected . after term {}",
                    super::format::quote(&node.to_string(), false)
                )));
            }
            node => Arg::Chain {
                pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.kind {
            Kind::Identifier => {
                if !funcs::exists(&token.val) {
                    return Err(self.error(format!(
                        "function {} not defined",
                        super::format::quote(&token.val, false)
                    )));
                }
                Arg::Identifier { pos, name: token.val }
            }
            Kind::Dot => Arg::Dot { pos },
            Kind::Keyword if token.val == "nil" => Arg::Nil { pos },
            Kind::Variable => {
                if !self.vars.contains(&token.val) {
                    return Err(self.error(format!(
                        "undefined variable {}",
                        super::format::quote(&token.val, false)
                    )));
                }
                Arg::Variable {
                    pos,
                    idents: vec![token.val],
                }
            }
            Kind::Field => Arg::Field {
                pos,
                idents: vec![token.val[1..].to_owned()],
            },
            Kind::Bool => Arg::Bool {
                pos,
                value: token.val == "true",
            },
            Kind::Number | Kind::CharConstant => {
                let number = Number::parse(&token.val, token.kind == Kind::CharConstant)
                    .map_err(|message| self.error(message))?;
                Arg::Number { pos, number }
            }
            Kind::LeftParen => {
                self.enter()?;
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(pipe))
            }
            Kind::String | Kind::RawString => Arg::String {
                pos,
                text: self.unquote(&token.val)?,
                quoted: token.val,
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn unquote(&self, quoted: &str) -> Result<String> {
        unquote(quoted).ok_or_else(|| self.error("invalid syntax"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Vec<Node> {
        parse("t", text).expect("parses").remove("t").expect("main tree")
    }

    fn error(text: &str) -> String {
        parse("message", text).expect_err("fails").to_string()
    }

    #[test]
    fn nodes_print_like_go() {
        let nodes =
            tree("{{ $x := .A.B | printf \"%s\" (len .) }}{{ ($x).C }}{{ $.D }}{{if .E}}a{{else}}b{{end}}");
        let printed: Vec<String> = nodes.iter().map(ToString::to_string).collect();
        assert_eq!(
            printed,
            [
                "{{$x := .A.B | printf \"%s\" (len .)}}",
                "{{($x).C}}",
                "{{$.D}}",
                "{{if .E}}a{{else}}b{{end}}"
            ]
        );
    }

    #[test]
    fn field_chains_take_the_position_of_the_second_field() {
        // Go's parser positions `.A.B` at `.B` (ErrorContext reports that column).
        let nodes = tree("xx {{ .Nope.Files }}");
        let Node::Action { pipe, .. } = &nodes[1] else {
            panic!("action")
        };
        assert_eq!(pipe.cmds[0].args[0].pos(), 11);
    }

    #[test]
    fn else_if_and_else_with_chain() {
        let nodes = tree("{{if .A}}a{{else if .B}}b{{else}}c{{end}}{{with .C}}c{{else with .D}}d{{end}}");
        let Node::If(c) = &nodes[0] else { panic!("if") };
        let else_list = c.else_list.as_ref().expect("else");
        assert!(matches!(&else_list[0], Node::If(inner) if inner.else_list.is_some()));
        let Node::With(c) = &nodes[1] else { panic!("with") };
        assert!(matches!(&c.else_list.as_ref().expect("else")[0], Node::With(_)));
    }

    #[test]
    fn defines_and_blocks_add_trees() {
        let trees = parse("main", "{{define \"a\"}}A{{end}}x{{block \"b\" .}}B{{end}}").expect("parses");
        assert_eq!(trees.keys().collect::<Vec<_>>(), ["a", "b", "main"]);
        assert_eq!(
            error("{{define \"a\"}}A{{end}}{{define \"a\"}}B{{end}}"),
            "template: message:1: template: multiple definition of template \"a\""
        );
        // An empty definition does not replace a non-empty one.
        assert!(parse("m", "{{define \"a\"}}A{{end}}{{define \"a\"}} {{end}}").is_ok());
    }

    #[test]
    fn errors_match_go() {
        // Each expected message was produced by Go 1.19's text/template.
        for (text, want) in [
            ("a\n\n{{ .A }", "template: message:3: unexpected \"}\" in operand"),
            (
                "{{ nope 1 }}",
                "template: message:1: function \"nope\" not defined",
            ),
            ("{{ $x }}", "template: message:1: undefined variable \"$x\""),
            ("{{ if .A }}", "template: message:1: unexpected EOF"),
            ("{{ end }}", "template: message:1: unexpected {{end}}"),
            ("{{ else }}", "template: message:1: unexpected {{else}}"),
            (
                "{{ .A | 3 }}",
                "template: message:1: non executable command in pipeline stage 2",
            ),
            ("{{ }}", "template: message:1: missing value for command"),
            ("{{ if }}{{ end }}", "template: message:1: missing value for if"),
            ("{{ break }}", "template: message:1: {{break}} outside {{range}}"),
            (
                "{{ range $a, $b, $c := . }}{{ end }}",
                "template: message:1: too many declarations in range",
            ),
            (
                "{{ \"a\".B }}",
                "template: message:1: unexpected . after term \"\\\"a\\\"\"",
            ),
            (
                "{{ .A\n\n",
                "template: message:3: unclosed action started at message:1",
            ),
            ("{{ .A\n}\n}}", "template: message:2: unexpected \"}\" in operand"),
            ("{{ \"\\q\" }}", "template: message:1: invalid syntax"),
            (
                "{{ 1 2 }}",
                "template: message:1: can't give argument to non-function 1",
            ),
            (
                "{{ template .A }}",
                "template: message:1: unexpected \".A\" in template clause",
            ),
            (
                "{{ if .A }}{{ else }}{{ else }}{{ end }}",
                "template: message:1: expected end; found {{else}}",
            ),
            (
                "{{ with $x := 1 }}{{ end }}{{ $x }}",
                "template: message:1: undefined variable \"$x\"",
            ),
        ] {
            if text == "{{ 1 2 }}" {
                // Go rejects this when executing, not parsing.
                assert!(parse("message", text).is_ok());
                continue;
            }
            assert_eq!(error(text), want, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
        assert!(error(&text).contains("nesting deeper than"));
        let text = "{{if 1}}".repeat(5000);
        assert!(error(&text).contains("nesting deeper than"));
    }
}
