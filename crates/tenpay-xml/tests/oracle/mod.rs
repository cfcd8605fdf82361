//! The oracle: quick-xml's reading of a flat envelope, written independently of our reader.
//! Shared by the tests (`tests/it.rs`) and the differential fuzz target.

use quick_xml::Reader;
use quick_xml::events::Event;

/// What quick-xml reads from `input` as a flat `<root>` envelope: the fields in order, or why
/// it is not one. Values are the raw content (no end-of-line normalization), with CDATA
/// unwrapped and the predefined entities and character references resolved.
pub(crate) fn quick_xml_fields(input: &str, root: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = Reader::from_str(input);
    let mut fields = Vec::new();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut current: Option<(String, String)> = None;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let event_kind = if matches!(event, Event::Start(_)) {
            Kind::Start
        } else {
            Kind::Other
        };
        match event {
            Event::Start(e) | Event::Empty(e) if depth == 0 => {
                let name = e.name().as_ref().to_owned();
                if seen_root || name != root {
                    return Err(format!("unexpected root {name}"));
                }
                seen_root = true;
                if matches!(event_kind, Kind::Start) {
                    depth += 1;
                }
            }
            Event::Start(e) if depth == 1 => {
                current = Some((e.name().as_ref().to_owned(), String::new()));
                depth += 1;
            }
            Event::Empty(e) if depth == 1 => {
                fields.push((e.name().as_ref().to_owned(), String::new()));
            }
            Event::Start(_) | Event::Empty(_) => return Err("nested element".into()),
            Event::End(_) => {
                depth = depth.checked_sub(1).ok_or("unbalanced end")?;
                if depth == 1 {
                    fields.push(current.take().ok_or("end without start")?);
                }
            }
            Event::Text(t) => {
                let text = t.into_inner();
                match current.as_mut() {
                    Some((_, v)) if depth == 2 => v.push_str(&text),
                    _ if text
                        .bytes()
                        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) => {}
                    _ => return Err("text outside fields".into()),
                }
            }
            Event::CData(c) => match current.as_mut() {
                Some((_, v)) if depth == 2 => v.push_str(&c.into_inner()),
                _ => return Err("CDATA outside fields".into()),
            },
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => match r.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err("unknown entity".into()),
                    },
                };
                match current.as_mut() {
                    Some((_, v)) if depth == 2 => v.push(c),
                    _ => return Err("reference outside fields".into()),
                }
            }
            Event::Decl(_) => {}
            Event::Eof => break,
            Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {
                return Err("outside the subset".into());
            }
        }
    }
    if !seen_root || depth != 0 {
        return Err("no complete root".into());
    }
    Ok(fields)
}

enum Kind {
    Start,
    Other,
}
