import { createHash } from 'node:crypto';
import { type CorpusFile, type CorpusSource, type PreparedData, type PrepareOptions, prepareData } from '../../src/text/corpus.js';
import { NUL, notText, ranToEnd, readCorpusFiles, readOrThrow } from '../../src/text/corpus-files.js';
import { type DocsMode, DOCUMENT_END, lfLineEnds, splitDocuments } from '../../src/text/documents.js';
import { SENTENCE_RULE_VERSION } from '../../src/text/sentences.js';
import { type TokenArray, tokenArrayFor } from '../../src/text/tokens.js';
import { decodeUtf8 } from '../../src/text/utf8.js';
import { codePointCount, EOS, type Vocabulary } from '../../src/text/vocab.js';

/*
 * The corpus read whole — every file at once, as one string — the plain reading the streamed
 * one (`streamCorpus`) is checked against.
 */

export interface Corpus {
  documents: string[];
  files: CorpusFile[];
  docs: DocsMode;
}

/** Reads the corpus named by `paths` (files or folders) whole and cuts it into documents. */
export function readCorpus(paths: readonly string[], docs: DocsMode): Corpus {
  const read = ranToEnd(readCorpusFiles(paths, docs, function* (path, inFolder) {
    const bytes = readOrThrow(path);
    // the file read, where the streamed reading yields after each chunk
    yield;
    const nul = bytes.indexOf(NUL);
    if (nul >= 0) {
      if (inFolder) return null;
      throw notText(path, nul);
    }
    const text = decodeUtf8(path, bytes);
    const documents = splitDocuments(lfLineEnds(text), docs);
    return {
      file: { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      documents: documents.length, holdsText: text.length > 0, texts: documents,
    };
  }));
  return { documents: read.flatMap((file) => file.texts), files: read.map((file) => file.file), docs };
}

/** A corpus read whole, as a source of pieces: each document whole, then its end. */
export function wholeSource(corpus: Corpus): CorpusSource {
  const { documents, files, docs } = corpus;
  return {
    files, docs, sentenceRule: SENTENCE_RULE_VERSION, documents: documents.length,
    totalTokens: 1 + documents.reduce((n, doc) => n + codePointCount(doc) + 1, 0),
    *pieces() {
      for (const doc of documents) {
        yield doc;
        yield DOCUMENT_END;
      }
    },
  };
}

/** `prepareData` of a corpus read whole. */
export function prepareWhole(corpus: Corpus, options: PrepareOptions): PreparedData {
  return prepareData(wholeSource(corpus), options);
}

/** The spec's token stream `<EOS> d1 <EOS> d2 <EOS> … dn <EOS>`, compact (`tokenArrayFor`). */
export function tokenStream(documents: readonly string[], vocab: Vocabulary): TokenArray {
  const encoded = documents.map((doc) => vocab.encode(doc));
  const stream = tokenArrayFor(vocab.size, 1 + encoded.reduce((n, ids) => n + ids.length + 1, 0));
  let at = 0;
  stream[at++] = EOS;
  for (const ids of encoded) {
    stream.set(ids, at);
    at += ids.length;
    stream[at++] = EOS;
  }
  return stream;
}
