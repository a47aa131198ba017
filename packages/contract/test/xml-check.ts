/**
 * A deliberately small XML 1.0 well-formedness check (no dependency): tags nest and close,
 * attributes are quoted and unique, entities are the predefined five or numeric, one root.
 * Returns the elements found so tests can also read the structure back.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*$/;

export function parseXml(source: string): XmlElement {
  let rest = source.replace(/^<\?xml[^?]*\?>\s*/, "");
  const root: XmlElement = { name: "#document", attributes: {}, children: [], text: "" };
  const stack: XmlElement[] = [root];
  const decode = (text: string) => {
    const bad = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/.exec(text);
    if (bad) throw new Error(`bare & at ${JSON.stringify(text.slice(bad.index, bad.index + 20))}`);
    if (text.includes("<")) throw new Error("bare < in text");
    return text
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&");
  };
  while (rest.length) {
    const lt = rest.indexOf("<");
    const text = lt === -1 ? rest : rest.slice(0, lt);
    if (text.trim()) {
      if (stack.length === 1) throw new Error("text outside the root element");
      stack.at(-1)!.text += decode(text);
    }
    if (lt === -1) break;
    rest = rest.slice(lt);
    const gt = rest.indexOf(">");
    if (gt === -1) throw new Error("unterminated tag");
    const tag = rest.slice(1, gt);
    rest = rest.slice(gt + 1);
    if (tag.startsWith("/")) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1).trim()) throw new Error(`</${tag.slice(1)}> closes <${open?.name}>`);
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const name = body.split(/\s/, 1)[0]!;
    if (!NAME.test(name)) throw new Error(`bad element name ${name}`);
    const element: XmlElement = { name, attributes: {}, children: [], text: "" };
    let attrs = body.slice(name.length);
    for (;;) {
      attrs = attrs.trimStart();
      if (!attrs) break;
      const m = /^([A-Za-z_:][\w.:-]*)="([^"<]*)"/.exec(attrs);
      if (!m) throw new Error(`bad attribute syntax in <${name}>: ${attrs.slice(0, 30)}`);
      if (m[1]! in element.attributes) throw new Error(`duplicate attribute ${m[1]}`);
      element.attributes[m[1]!] = decode(m[2]!);
      attrs = attrs.slice(m[0].length);
    }
    if (stack.length === 1 && root.children.length) throw new Error("more than one root element");
    stack.at(-1)!.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  if (root.children.length !== 1) throw new Error("no root element");
  return root.children[0]!;
}

export function findAll(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((c) => (c.name === name ? [c, ...findAll(c, name)] : findAll(c, name)));
}
