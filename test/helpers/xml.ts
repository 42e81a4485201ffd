/**
 * A small strict XML reader for tests: enough of XML 1.0 to tell whether a document is
 * well-formed (one root, matched tags, quoted and unique attributes, no stray `<` or `&`) and to
 * look inside it. Throws an Error naming the offset on anything it does not accept.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text, entities decoded (not its descendants'). */
  text: string;
}

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`not well-formed XML at offset ${at}: ${what} (near ${JSON.stringify(source.slice(at, at + 30))})`);
  };
  const skipSpace = () => {
    while (at < source.length && /\s/.test(source[at]!)) at++;
  };
  const name = (): string => {
    NAME.lastIndex = at;
    const m = NAME.exec(source);
    if (!m) return fail('expected a name');
    at += m[0].length;
    return m[0];
  };
  /** Decodes text up to `stop` (exclusive), refusing `<` and bare `&`. */
  const decode = (end: number): string => {
    let out = '';
    while (at < end) {
      const ch = source[at]!;
      if (ch === '<') fail('a "<" in text or an attribute value');
      if (ch === '&') {
        ENTITY.lastIndex = at;
        const m = ENTITY.exec(source);
        if (!m || at + m[0].length > end) fail('a bare "&"');
        const body = m![0].slice(1, -1);
        out += body.startsWith('#x') ? String.fromCodePoint(parseInt(body.slice(2), 16))
          : body.startsWith('#') ? String.fromCodePoint(Number(body.slice(1))) : NAMED[body]!;
        at += m![0].length;
      } else {
        out += ch;
        at++;
      }
    }
    return out;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<?', at)) {
        const end = source.indexOf('?>', at);
        if (end < 0) fail('an unclosed processing instruction');
        at = end + 2;
      } else if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('an unclosed comment');
        at = end + 3;
      } else return;
    }
  };
  const element = (): XmlElement => {
    if (source[at] !== '<') fail('expected "<"');
    at++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      const before = at;
      skipSpace();
      if (source.startsWith('/>', at)) {
        at += 2;
        return el;
      }
      if (source[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('expected a space before an attribute');
      const attr = name();
      if (attr in el.attrs) fail(`a duplicate attribute ${attr}`);
      skipSpace();
      if (source[at] !== '=') fail('expected "="');
      at++;
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") fail('an unquoted attribute value');
      at++;
      const end = source.indexOf(quote!, at);
      if (end < 0) fail('an unclosed attribute value');
      el.attrs[attr] = decode(end);
      at = end + 1;
    }
    for (;;) {
      if (at >= source.length) fail(`an unclosed <${el.name}>`);
      if (source.startsWith('</', at)) {
        at += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (source[at] !== '>') fail('expected ">"');
        at++;
        return el;
      }
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('an unclosed comment');
        at = end + 3;
      } else if (source[at] === '<') {
        el.children.push(element());
      } else {
        const next = source.indexOf('<', at);
        el.text += decode(next < 0 ? source.length : next);
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (at !== source.length) fail('content after the root element');
  return root;
}

/** Every element below (and including) `root`, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}

/** The text of an element and its descendants, in document order. */
export function textContent(el: XmlElement): string {
  return el.text + el.children.map(textContent).join('');
}
