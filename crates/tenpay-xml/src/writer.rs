use crate::map::XmlMap;

impl XmlMap {
    /// Writes the message as `<xml>…</xml>`, deterministically, in field order.
    ///
    /// Each value is written the plainest way that keeps it exact: bare text when it has no
    /// markup characters; CDATA when it has `<` or `&` (a `]]>` inside is split across two
    /// sections, so it stays one value); escaped text with `&#13;` when it has a carriage
    /// return (raw CRs would be normalized away by a conforming reader).
    #[must_use]
    pub fn to_xml(&self) -> String {
        self.to_xml_with_root("xml")
    }

    /// Writes with another root element, such as `root` for the refund payload.
    ///
    /// The root name must be a valid element name; an invalid one is replaced by `xml`
    /// (element names given to maps are checked when inserted).
    #[must_use]
    pub fn to_xml_with_root(&self, root: &str) -> String {
        let root = if crate::names::valid_name(root) {
            root
        } else {
            "xml"
        };
        let mut out = String::with_capacity(
            self.iter()
                .map(|(k, v)| 2 * k.len() + v.len() + 16)
                .sum::<usize>()
                + 16,
        );
        out.push('<');
        out.push_str(root);
        out.push('>');
        for (name, value) in self {
            out.push('<');
            out.push_str(name);
            out.push('>');
            write_value(&mut out, value);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        out.push_str("</");
        out.push_str(root);
        out.push('>');
        out
    }
}

fn write_value(out: &mut String, value: &str) {
    let mut markup = false;
    let mut cr = false;
    for b in value.bytes() {
        match b {
            b'<' | b'&' | b'>' => markup = true,
            b'\r' => cr = true,
            _ => {}
        }
    }
    if cr {
        for c in value.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '\r' => out.push_str("&#13;"),
                c => out.push(c),
            }
        }
    } else if markup {
        out.push_str("<![CDATA[");
        let mut rest = value;
        while let Some(i) = rest.find("]]>") {
            // "]]" ends this section; ">" starts the next one.
            out.push_str(&rest[..i + 2]);
            out.push_str("]]><![CDATA[");
            rest = &rest[i + 2..];
        }
        out.push_str(rest);
        out.push_str("]]>");
    } else {
        out.push_str(value);
    }
}
