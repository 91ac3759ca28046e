// A tiny, safe Markdown subset for replies and notes: paragraphs, line breaks, `- ` lists,
// **bold**, _italic_ / *italic*, `code` and [links](https://…). It produces a tree that the
// Markdown component renders as text nodes and elements, so no HTML string is ever built.

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'strong' | 'em'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; children: Inline[] }
  | { type: 'br' };

export type Block = { type: 'p'; children: Inline[] } | { type: 'ul'; items: Inline[][] };

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

export function parseInline(source: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ type: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const char = source[i];
    if (char === '\n') {
      flush();
      out.push({ type: 'br' });
      i += 1;
      continue;
    }
    if (char === '`') {
      const end = source.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ type: 'code', text: source.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (rest.startsWith('**')) {
      const end = source.indexOf('**', i + 2);
      if (end > i + 2) {
        flush();
        out.push({ type: 'strong', children: parseInline(source.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((char === '_' || char === '*') && /\S/.test(source[i + 1] ?? '')) {
      const end = source.indexOf(char, i + 1);
      const before = source[i - 1];
      if (end > i + 1 && (before === undefined || !/\w/.test(before))) {
        flush();
        out.push({ type: 'em', children: parseInline(source.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (char === '[') {
      const match = /^\[([^\]\n]+)\]\(([^)\s]+)\)/.exec(rest);
      if (match && SAFE_LINK.test(match[2])) {
        flush();
        out.push({ type: 'link', href: match[2], children: parseInline(match[1]) });
        i += match[0].length;
        continue;
      }
    }
    const url = /^https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/.exec(rest);
    if (url && (i === 0 || /\s/.test(source[i - 1]))) {
      flush();
      out.push({ type: 'link', href: url[0], children: [{ type: 'text', text: url[0] }] });
      i += url[0].length;
      continue;
    }
    text += char;
    i += 1;
  }
  flush();
  return out;
}

export function parseMarkdown(source: string): Block[] {
  const blocks: Block[] = [];
  for (const chunk of source.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    if (!chunk.trim()) continue;
    const lines = chunk.split('\n');
    if (lines.every((line) => /^\s*[-*]\s+/.test(line))) {
      blocks.push({ type: 'ul', items: lines.map((line) => parseInline(line.replace(/^\s*[-*]\s+/, ''))) });
    } else {
      blocks.push({ type: 'p', children: parseInline(chunk) });
    }
  }
  return blocks;
}
