import { SENTENCE_RULE_VERSION, type SentenceRule, splitSentences } from './sentences.js';

/*
 * Cutting a file's text into documents (docs/text.md), whole or as it arrives in pieces, the
 * same way.
 */

/**
 * How a corpus is cut into documents (docs/text.md: each file is one, or a finer split):
 * 'sentence' cuts each blank-line paragraph into sentences (sentences.ts, docs/words.md).
 */
export const DOCS_MODES = ['file', 'line', 'blank', 'sentence'] as const;
export type DocsMode = (typeof DOCS_MODES)[number];

/** A corpus read as pieces (`CorpusSource.pieces`): text of the current document, or `DOCUMENT_END` after its last. */
export const DOCUMENT_END = null;
export type CorpusPiece = string | typeof DOCUMENT_END;

/**
 * Cuts one file's text into documents as `docs` says, at the 'sentence' level by the sentence
 * rules of version `sentenceRule`; empty documents are dropped.
 */
export function splitDocuments(text: string, docs: DocsMode, sentenceRule: SentenceRule = SENTENCE_RULE_VERSION): string[] {
  switch (docs) {
    case 'file':
      return text.length > 0 ? [text] : [];
    case 'line':
      return text.split('\n').filter((line) => !isBlank(line));
    case 'blank':
      return paragraphsOf(text);
    case 'sentence':
      return paragraphsOf(text).flatMap((paragraph) => splitSentences(paragraph, sentenceRule));
  }
}

/** The runs of non-blank lines, each joined with "\n"; blank lines (spaces and tabs only) separate them. */
function paragraphsOf(text: string): string[] {
  const paragraphs: string[] = [];
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!isBlank(line)) {
      lines.push(line);
    } else if (lines.length > 0) {
      paragraphs.push(lines.join('\n'));
      lines = [];
    }
  }
  if (lines.length > 0) paragraphs.push(lines.join('\n'));
  return paragraphs;
}

function isBlank(line: string): boolean {
  return /^[ \t]*$/.test(line);
}

/**
 * A text as a model reads it, however it comes (a file, a flag, a request, the library's
 * caller): a leading byte-order mark (an editor's) dropped, and CRLF line ends read as LF
 * (`lfLineEnds`). `Vocabulary.tokenize` reads every text so.
 */
export function textAsRead(text: string): string {
  return lfLineEnds(text.startsWith('\uFEFF') ? text.slice(1) : text);
}

/** CRLF line ends as LF: how every text, a corpus file's too (`Utf8ChunkDecoder`), is read. */
export function lfLineEnds(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

/** How a model cuts the texts it reads into documents: as its corpus was cut, by `docs` (for 'sentence', the rules of `sentenceRule`). */
export interface DocumentRule {
  docs: DocsMode;
  sentenceRule: SentenceRule;
}

/** Whether two rules cut a text into the same documents: the same mode, and for 'sentence' the same rules. */
export function sameDocumentRule(a: DocumentRule, b: DocumentRule): boolean {
  return a.docs === b.docs && (a.docs !== 'sentence' || a.sentenceRule === b.sentenceRule);
}

/** A document rule as its flag (`docs`, as a message names it) says it: `docs line`, `docs sentence (sentence rules version 2)`. */
export function documentRuleText({ docs, sentenceRule }: { docs: DocsMode; sentenceRule?: number }, flag = 'docs'): string {
  return `${flag} ${docs}${docs === 'sentence' ? ` (sentence rules version ${sentenceRule})` : ''}`;
}

/**
 * What parts two documents of each mode, as a drawn `<EOS>` writes it (docs/text.md): a blank line
 * between paragraphs, a space between the sentences of one, a line break after a line or a file.
 */
const SEPARATORS: Readonly<Record<DocsMode, string>> = { file: '\n', line: '\n', blank: '\n\n', sentence: ' ' };

/** The text that parts two documents cut by `rule`: what a drawn `<EOS>` writes. */
export function documentSeparator(rule: DocumentRule): string {
  return SEPARATORS[rule.docs];
}

/** A CJK or fullwidth punctuation mark (`。` `，` `「」` `！` `・`…): Chinese and Japanese put no space around them. */
export const CJK_MARK = /(?=[\p{P}\p{S}])[\u3001-\u303f\uff01-\uff65\u30fb]/u;

/**
 * What a drawn `<EOS>` writes at the character level after a document that ends in `last` (its
 * last character, or ''): `documentSeparator`, but nothing between two sentences after a CJK mark, which
 * no space follows.
 */
export function separatorAfter(rule: DocumentRule, last: string): string {
  return rule.docs === 'sentence' && CJK_MARK.test(last) ? '' : documentSeparator(rule);
}

/** Each text one document: the default (`--docs file`), and the rule of a model that records no other. */
export const WHOLE_TEXTS: DocumentRule = { docs: 'file', sentenceRule: SENTENCE_RULE_VERSION };

/** A text a model reads, cut by its `DocumentRule` (`readDocuments`). */
export interface ReadText {
  /** Its documents, read as a whole text is (a scored one): `splitDocuments`'. */
  documents: string[];
  /** The text between each two of them, as written. */
  separators: string[];
  /**
   * Read as the start of a longer text (a prime), whether a document ends where it ends, after
   * the last of `documents`: a line break after a line, a blank line after a paragraph, white
   * space after a sentence's end. (At the end of a whole text every document ends.)
   */
  ended: boolean;
  /**
   * Read as the start of a longer text, the text read after `documents` (and, where `ended`,
   * after the end): the white space the last of them goes on with, which a whole text leaves out
   * (a paragraph's last line break, a sentence's last space), or the start of the next document.
   */
  rest: string;
}

/**
 * What begins the document after a text read as the start of a longer one: a capital letter,
 * which no rule reads as part of the document before (a sentence goes on before a lowercase one).
 */
const NEXT_DOCUMENT = 'A';

/**
 * `text` cut into documents by `rule` as a corpus is (`splitDocuments`), and what reading it as
 * the start of a longer text adds: it is cut again as though a new document began right after
 * it (`NEXT_DOCUMENT`), and its last document has ended where that cut keeps the whole text's
 * documents and adds the new one. (A next document may move a cut the whole text has: under
 * sentence rules version 4 `« Non. »` is one sentence, `« Non. »A` two, cut before the `»`;
 * then no document ends with the text.)
 */
export function readDocuments(text: string, rule: DocumentRule): ReadText {
  if (rule.docs === 'file') return { documents: splitDocuments(text, 'file'), separators: [], ended: false, rest: '' };
  const documents = splitDocuments(text, rule.docs, rule.sentenceRule);
  const started = splitDocuments(text + NEXT_DOCUMENT, rule.docs, rule.sentenceRule);
  const open = started.at(-1)!.slice(0, -NEXT_DOCUMENT.length);
  const ended = documents.length > 0 && started.length === documents.length + 1 && documents.every((doc, i) => doc === started[i]);
  const separators: string[] = [];
  let end = 0;
  for (const [i, doc] of documents.entries()) {
    const start = text.indexOf(doc, end);
    if (i > 0) separators.push(text.slice(end, start));
    end = start + doc.length;
  }
  // where a document has ended, or none has begun, the next one holds white space so far, which the whole text drops
  return { documents, separators, ended, rest: ended || documents.length === 0 ? open : text.slice(end) };
}

/**
 * Cuts a file's text, arriving in pieces, into the documents `splitDocuments` cuts from the whole
 * of it. At the 'file' level each piece is the next part of the one document. Else the text is
 * held up to the last place where a cut leaves the documents as they are — a line break for
 * 'line', the start of a blank line for 'blank' and 'sentence' (a paragraph never spans one) —
 * and `splitDocuments` cuts what comes before it. (A file with no such place is held whole.)
 */
export class DocumentCutter {
  /** The text held since the last cut ('line', 'blank', 'sentence'). */
  private rest = '';
  /** Whether a piece of text has come ('file'): the one document it makes then ends with the file. */
  private begun = false;

  constructor(private readonly docs: DocsMode, private readonly sentenceRule: SentenceRule = SENTENCE_RULE_VERSION) {}

  /** The pieces of the documents that `text`, the file's next part, completes ('file': `text` itself). */
  push(text: string): CorpusPiece[] {
    if (this.docs === 'file') {
      if (text.length === 0) return [];
      this.begun = true;
      return [text];
    }
    const scanFrom = Math.max(0, this.rest.lastIndexOf('\n'));
    this.rest += text;
    const cut = this.lastCut(scanFrom);
    if (cut < 0) return [];
    const before = this.rest.slice(0, cut);
    this.rest = this.rest.slice(this.docs === 'line' ? cut + 1 : cut);
    return documentPieces(splitDocuments(before, this.docs, this.sentenceRule));
  }

  /** The pieces of what is left at the file's end: its last documents, or the end of its one document ('file'). */
  end(): CorpusPiece[] {
    if (this.docs === 'file') return this.begun ? [DOCUMENT_END] : [];
    const rest = this.rest;
    this.rest = '';
    return documentPieces(splitDocuments(rest, this.docs, this.sentenceRule));
  }

  /**
   * Where the held text may be cut, looking no earlier than `scanFrom`: 'line', at its last line
   * break (which is dropped); else after the line break that starts its last blank line
   * (followed by a line break of its own). -1 when there is no such place.
   */
  private lastCut(scanFrom: number): number {
    if (this.docs === 'line') return this.rest.lastIndexOf('\n');
    let cut = -1;
    for (let at = this.rest.indexOf('\n', scanFrom); at >= 0; at = this.rest.indexOf('\n', at + 1)) {
      const next = this.rest.indexOf('\n', at + 1);
      if (next < 0) break;
      if (isBlank(this.rest.slice(at + 1, next))) cut = at + 1;
    }
    return cut;
  }
}

/** Each document, then its `DOCUMENT_END`. */
function documentPieces(documents: readonly string[]): CorpusPiece[] {
  return documents.flatMap((doc) => [doc, DOCUMENT_END]);
}
