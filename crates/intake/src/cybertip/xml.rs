//! A small element tree for one CyberTipline document, built with quick-xml's
//! streaming reader, and its conversion to JSON for `extra`.
//!
//! One report is small (kilobytes), so a tree is simpler and clearer than a
//! streaming state machine; the folder reader still goes file by file.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::{Map, Value};

/// Elements nested deeper than this reject the document: no real report
/// comes close, and it bounds the recursion of the JSON conversion.
const MAX_DEPTH: usize = 64;

/// One element: name (namespace prefix dropped), attributes, text, children.
#[derive(Debug, Default, Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

/// A syntax error with its 1-based line and column (bytes).
#[derive(Debug)]
pub(crate) struct XmlError {
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
}

fn line_col(bytes: &[u8], offset: u64) -> (u64, u64) {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let before = bytes.get(..end).unwrap_or_default();
    let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
    let col_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, (end - col_start) as u64 + 1)
}

fn local_name(s: &BytesStart<'_>) -> String {
    let name = s.local_name();
    let n: &str = name.as_ref();
    n.to_owned()
}

fn attrs(s: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let local = a.key.local_name();
        let key: &str = local.as_ref();
        let full: &str = a.key.as_ref();
        // Namespace declarations and xsi:* say nothing about the report.
        if full.starts_with("xmlns") || full.starts_with("xsi:") {
            continue;
        }
        let key = key.to_owned();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_or_else(|_| a.value.to_string(), |v| v.into_owned());
        out.push((key, value));
    }
    Ok(out)
}

/// `&amp;` and friends, `&#x41;`; an unknown entity is kept as written.
fn resolve_ref(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name: &str = r;
    match quick_xml::escape::resolve_predefined_entity(name) {
        Some(s) => s.to_string(),
        None => format!("&{name};"),
    }
}

/// A DOCTYPE may name a DTD (never fetched), but may not declare entities:
/// they would never be expanded, and a document declaring them is built to
/// attack parsers that do ("billion laughs"), not a report.
fn check_doctype(d: &str) -> Result<(), String> {
    if d.contains("<!ENTITY") {
        return Err("the DOCTYPE declares entities (<!ENTITY ...>); entity declarations are refused, never expanded".into());
    }
    Ok(())
}

/// Parses a whole document into its root element. A leading byte-order mark
/// is allowed. A DTD is ignored (never fetched); one declaring entities
/// rejects the document.
pub(crate) fn parse(bytes: &[u8]) -> Result<Node, XmlError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let shift = (bytes.len() - body.len()) as u64;
    let mut xml = Reader::from_reader(body);
    let err = |offset: u64, message: String| {
        let (line, column) = line_col(bytes, offset + shift);
        XmlError {
            line,
            column,
            message,
        }
    };
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let at = xml.buffer_position();
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| err(xml.error_position(), e.to_string()))?;
        match event {
            Event::Start(s) | Event::Empty(s) if root.is_some() => {
                let _ = s;
                return Err(err(at, "content after the root element".into()));
            }
            Event::Start(s) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(at, format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push(Node {
                    name: local_name(&s),
                    attrs: attrs(&s).map_err(|m| err(at, m))?,
                    ..Node::default()
                });
            }
            Event::Empty(s) => {
                let node = Node {
                    name: local_name(&s),
                    attrs: attrs(&s).map_err(|m| err(at, m))?,
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches.
                if let Some(node) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(err(at, "text outside the root element".into()));
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolve_ref(&r));
                }
            }
            Event::DocType(d) => check_doctype(d.as_ref()).map_err(|m| err(at, m))?,
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(err(at, format!("document ends inside <{}>", open.name)));
                }
                return root.ok_or_else(|| err(at, "no root element".into()));
            }
            _ => {}
        }
    }
}

/// Streams a document only as far as needed to learn its root element's name
/// and its own `reportId` (a `reportId` attribute or child element).
pub(crate) fn peek(bytes: &[u8]) -> Result<(String, Option<String>), XmlError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let shift = (bytes.len() - body.len()) as u64;
    let mut xml = Reader::from_reader(body);
    let err = |offset: u64, message: String| {
        let (line, column) = line_col(bytes, offset + shift);
        XmlError {
            line,
            column,
            message,
        }
    };
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut root: Option<String> = None;
    let mut in_id = false;
    let mut id = String::new();
    loop {
        buf.clear();
        let at = xml.buffer_position();
        match xml
            .read_event_into(&mut buf)
            .map_err(|e| err(xml.error_position(), e.to_string()))?
        {
            Event::Start(s) => {
                if depth == 0 {
                    let own = attrs(&s)
                        .map_err(|m| err(at, m))?
                        .into_iter()
                        .find(|(k, _)| k == "reportId")
                        .map(|(_, v)| v);
                    if own.is_some() {
                        return Ok((local_name(&s), own));
                    }
                    root = Some(local_name(&s));
                } else if depth == 1 && local_name(&s) == "reportId" {
                    in_id = true;
                }
                depth += 1;
            }
            Event::Empty(s) if depth == 0 => {
                let own = attrs(&s)
                    .map_err(|m| err(at, m))?
                    .into_iter()
                    .find(|(k, _)| k == "reportId")
                    .map(|(_, v)| v);
                return Ok((local_name(&s), own));
            }
            Event::Text(t) if in_id => {
                id.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if in_id => id.push_str(&resolve_ref(&r)),
            Event::DocType(d) => check_doctype(d.as_ref()).map_err(|m| err(at, m))?,
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if in_id {
                    let id = id.trim();
                    let id = (!id.is_empty()).then(|| id.to_owned());
                    return Ok((root.unwrap_or_default(), id));
                }
            }
            Event::Eof => {
                return match root {
                    Some(r) if depth == 0 => Ok((r, None)),
                    Some(r) => Err(err(at, format!("document ends inside <{r}>"))),
                    None => Err(err(at, "no root element".into())),
                };
            }
            _ => {}
        }
    }
}

impl Node {
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of the first child `name`, if not empty.
    pub(crate) fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).and_then(Node::trimmed)
    }

    pub(crate) fn trimmed(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// JSON of this element: its text alone when it has neither attributes
    /// nor children; a list of flag names for `*Annotations` (whose children
    /// are empty flag elements); else an object with `@attr`, children by
    /// name (an array when repeated) and `#text`.
    pub(crate) fn to_json(&self) -> Value {
        let text = self.text.trim();
        if self.attrs.is_empty() && self.children.is_empty() {
            return Value::from(text);
        }
        if self.name.ends_with("Annotations")
            && self.attrs.is_empty()
            && self
                .children
                .iter()
                .all(|c| c.children.is_empty() && c.attrs.is_empty())
        {
            return Value::Array(
                self.children
                    .iter()
                    .map(|c| Value::from(c.name.as_str()))
                    .collect(),
            );
        }
        let mut m = Map::new();
        for (k, v) in &self.attrs {
            m.insert(format!("@{k}"), Value::from(v.as_str()));
        }
        group_into(&mut m, self.children.iter());
        if !text.is_empty() {
            m.insert("#text".into(), Value::from(text));
        }
        Value::Object(m)
    }
}

/// Adds elements to `m` by name, turning repeated names into arrays.
pub(crate) fn group_into<'a>(m: &mut Map<String, Value>, nodes: impl Iterator<Item = &'a Node>) {
    for c in nodes {
        let v = c.to_json();
        match m.get_mut(&c.name) {
            Some(Value::Array(a)) if !c.name.ends_with("Annotations") => a.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                m.insert(c.name.clone(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_converts() {
        let n = parse(
            b"\xEF\xBB\xBF<r a=\"1\"><x>t &amp; u</x><x>2</x><fileAnnotations><viral/></fileAnnotations></r>",
        )
        .unwrap();
        assert_eq!(n.name, "r");
        assert_eq!(
            n.to_json().to_string(),
            r#"{"@a":"1","fileAnnotations":["viral"],"x":["t & u","2"]}"#
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = parse(b"<r>\n  <x></y>\n</r>").unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse(b"<r><x>").unwrap_err();
        assert!(e.message.contains("ends inside"), "{e:?}");
        assert!(parse(b"").is_err());
        assert!(parse(b"<a/><b/>").is_err());
    }

    #[test]
    fn peeks() {
        assert_eq!(
            peek(b"<fileDetails><reportId> 12 </reportId><fileId>f</fileId></fileDetails>")
                .unwrap(),
            ("fileDetails".to_owned(), Some("12".to_owned()))
        );
        assert_eq!(
            peek(b"<report><a><reportId>no</reportId></a></report>").unwrap(),
            ("report".to_owned(), None)
        );
        assert_eq!(
            peek(b"<report reportId=\"9\"/>").unwrap(),
            ("report".to_owned(), Some("9".to_owned()))
        );
    }

    proptest::proptest! {
        /// Any bytes: an answer or an error, never a panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::sample::select(
            b"<>/=\"' abrx?!&;#\n\xEF\xBB\xBF".to_vec()), 0..120)) {
            let _ = parse(&bytes).map(|n| n.to_json());
            let _ = peek(&bytes);
        }
    }
}
