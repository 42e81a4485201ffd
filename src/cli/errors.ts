import { type Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { CheckpointError } from '../checkpoint/errors.js';
import { isFolder } from '../checkpoint/files.js';
import { InputError, flagName, orList } from '../input/settings.js';
import { likelyNames, quoted, shellWord, visible } from '../input/issues.js';
import { counted, firstNamed, grouped, plural } from '../input/counts.js';
import { codePointCount, codePointPrefix, type TextLevel, tokenCount, type Vocabulary } from '../text/vocab.js';
import { type UnknownTokens, unknownTokens } from '../text/corpus.js';
import { EXIT } from './exit.js';

/**
 * The one line a user sees for an error they can act on (bad input, a missing file, a flag out
 * of range), with every setting named as its flag; null for a fault of this program.
 */
export function userMessage(err: unknown): string | null {
  if (err instanceof InputError) return err.messageNaming(flagName);
  // the library's RangeError for an option's bad value carries the setting it is about
  if (err instanceof RangeError && err.cause instanceof InputError) return err.cause.messageNaming(flagName);
  if (err instanceof CheckpointError) return err.message;
  return null;
}

/** One line on stderr for anything the user can act on; a stack only with RNN_DEBUG=1. Returns the exit status. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.done : EXIT.usage;
  // a path or a value in the line with a control character in it is shown, never sent to the terminal
  const message = userMessage(err);
  if (message !== null) {
    process.stderr.write(`rnn: ${visible(message)}\n`);
    return EXIT.failed;
  }
  process.stderr.write(`rnn: internal error: ${visible(err instanceof Error ? err.message : String(err))}\n`);
  if (process.env.RNN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT.internal;
}

/**
 * The line for an error commander finds in the command line itself, as rnn's own read: an
 * unknown option with the flags it likely meant and where the flags are listed (`rnn: unknown
 * option --temp: did you mean --temperature? rnn sample --help lists the flags`); arguments
 * past those it takes, with the flag that names a checkpoint where it has one (`rnn sample
 * ckpt.json`); a missing argument with what it is (`rnn: import needs a <state> argument:
 * rnn-state/1 JSON file, …`); an unknown command as `unknownCommandLine` words it; commander's other errors on one line,
 * their suggestion joined to them.
 */
export function usageErrorLine(text: string, command: Command): string {
  const phrase = text.trimEnd().replace(/^error: /, '');
  const excess = /^too many arguments for '[^']+'\. Expected (\d+) arguments? but got (\d+)\.$/.exec(phrase);
  if (excess !== null) {
    const [expected, got] = [Number(excess[1]), excess[2]];
    const takes = expected === 0 ? 'no arguments' : `at most ${expected} ${plural(expected, 'argument')}`;
    const flag = flagName('checkpoint');
    const checkpoint = command.options.some((option) => option.long === flag) ? `; name a checkpoint with ${flag} FILE` : '';
    return `rnn: ${command.name()} takes ${takes} (got ${got})${checkpoint}; ${commandPath(command)} --help lists the flags\n`;
  }
  const missing = /^missing required argument '([^']+)'$/.exec(phrase);
  if (missing !== null) {
    const description = command.registeredArguments.find((argument) => argument.name() === missing[1])?.description;
    return `rnn: ${command.name()} needs a <${missing[1]}> argument${description ? `: ${description}` : ''}\n`;
  }
  const unknownCommand = /^unknown command '([^']+)'(?:\n\(Did you mean .+\?\))?$/.exec(phrase);
  if (unknownCommand !== null) return `rnn: ${unknownCommandLine([unknownCommand[1]!], command)}\n`;
  const unknown = /^unknown option '([^']+)'/.exec(phrase);
  if (unknown === null) return `rnn: ${phrase.replace(/\n\(Did you mean (.+)\?\)$/, '; did you mean $1?')}\n`;
  const flags = command.options.flatMap((option) => (option.long === undefined || option.hidden ? [] : [option.long]));
  const usage = commandPath(command);
  // a flag of one of its commands (rnn eval perplexity's, given to rnn eval): that command with it; rnn's are too many to name
  const given = unknown[1]!, flag = given.split('=')[0]!;
  const takesFlag = (sub: Command) => sub.options.some((option) => option.long === flag && !option.hidden);
  const owners = command.parent === null ? [] : command.commands.filter(takesFlag);
  if (owners.length > 0) {
    const meant = orList(owners.map((sub) => `${commandPath(sub)} ${given}`));
    return `rnn: unknown option ${given}: did you mean ${meant}? ${usage} --help lists the flags\n`;
  }
  const named = namedByOption(given, command);
  if (named !== null) return `rnn: unknown option ${given}, ${named}\n`;
  const meant = likelyNames(given, [...flags, '--help']);
  return `rnn: unknown option ${given}${meant.length > 0 ? `: did you mean ${orList(meant)}?` : ';'} ${usage} --help lists the flags\n`;
}

/**
 * Where the word `given`, read as an option, names a file or folder here and `command` takes arguments (`rnn train -x.txt`):
 * that it does, and how to name it as an argument; else null.
 */
function namedByOption(given: string, command: Command): string | null {
  if (command.registeredArguments.length === 0 || !existsSync(given)) return null;
  return `which names a ${isFolder(given) ? 'folder' : 'file'} here, but a word that begins with - reads as a flag: ` +
    `name it ${shellWord(`./${given}`)}, or last, after -- (${commandPath(command)} … -- ${shellWord(given)})`;
}

/** `rnn eval perplexity`: how a command is run. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The command that `path` names under `parent` has none of that name, in words: `unknown
 * command 'eval perplexty'; did you mean eval perplexity?`, else the commands it has.
 */
export function unknownCommandLine(path: readonly string[], parent: Command): string {
  const named = `unknown command '${path.join(' ')}'`;
  const names = parent.commands.map((command) => command.name());
  if (names.length === 0) return `${named}; ${commandPath(parent)} has no commands`;
  const meant = likelyNames(path.at(-1)!, names).map((name) => [...path.slice(0, -1), name].join(' '));
  return meant.length > 0 ? `${named}; did you mean ${orList(meant)}?` : `${named}; the commands of ${commandPath(parent)}: ${names.join(', ')}`;
}

/** A warning as its line reads: `rnn: warning: …`. */
export function warningLine(message: string): string {
  return `rnn: warning: ${visible(message)}`;
}

/** A warning's text, its settings named as flags. */
export function warningText(warning: InputError | string): string {
  return typeof warning === 'string' ? warning : warning.messageNaming(flagName);
}

/** One line on stderr for what the user should know but need not stop for, its settings named as flags. */
export function warn(warning: InputError | string): void {
  process.stderr.write(`${warningLine(warningText(warning))}\n`);
}

/**
 * The warning for a text (named `source`) whose `unknown` tokens (the text of each, as
 * `Vocabulary.encode` lists them) are outside the model's vocabulary: how many (characters, or
 * tokens at the word level), the most frequent named, and that they read as `<UNK>`; null for none.
 */
export function unknownTokensWarning(level: TextLevel, modelPath: string, source: string, unknown: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const token of unknown) counts.set(token, (counts.get(token) ?? 0) + 1);
  return unknownSummaryWarning(level, modelPath, source, unknownTokens(counts));
}

/** A ZWJ between two emoji, each with its U+FE0F or skin tone, is part of one emoji as shown (UTS #51's emoji ZWJ sequences). */
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}[\ufe0f\p{Emoji_Modifier}]?)\u200d(?=\p{Extended_Pictographic})/uy;

/**
 * A subdivision flag, one flag as shown (UTS #51's emoji tag sequences): a black flag U+1F3F4, tag characters, and the cancel tag
 * U+E007F (Scotland's: tags g b s c t).
 */
const SUBDIVISION_FLAG = /\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/uy;

/** A character and the combining marks after it, if any. */
const WITH_MARKS = /\P{M}\p{M}*/uy;

/**
 * What the characters escapeCharacters quotes are: one text (a word, a mark), each a token of its own (a character
 * vocabulary), or a token not in NFC, which would look the same as its NFC form, another token.
 */
export type QuotedAs = 'text' | 'tokens' | 'notNFC';

/**
 * The characters as one quoted string, with line breaks, tabs, invisible and separator
 * characters escaped but a zero-width joiner of an emoji sequence (EMOJI_JOINER) and the tag
 * characters of a subdivision flag (SUBDIVISION_FLAG), and each combining mark (an accent, a
 * variation selector) that has no character of its own before it to combine with: at the start,
 * or after an escape. As `tokens`, every combining mark, zero-width joiner and tag character is
 * escaped. As `notNFC`, what NFC changes is escaped too: the marks of a character that NFC composes
 * or reorders with them (`Cafe\u{301}`), and a character with none that NFC replaces (`\u{212b}`,
 * the angstrom sign, for Å).
 */
export function escapeCharacters(text: string, as: QuotedAs = 'text'): string {
  const eachAlone = as === 'tokens';
  let out = '"';
  let base = false; // whether the last character shows as one (no \u{…} or \n escape), which a mark after it combines with
  let at = 0;
  let flagEnd = 0; // where the subdivision flag last met ends
  let changedEnd = 0; // where the last character that NFC changes with its marks ends
  for (const ch of text) {
    EMOJI_JOINER.lastIndex = SUBDIVISION_FLAG.lastIndex = WITH_MARKS.lastIndex = at;
    at += ch.length;
    const mark = /\p{M}/u.test(ch);
    let replaced = false; // NFC replaces this character, which has no marks
    if (ch === '\u{1f3f4}' && !eachAlone && SUBDIVISION_FLAG.test(text)) flagEnd = SUBDIVISION_FLAG.lastIndex;
    if (as === 'notNFC' && !mark && WITH_MARKS.test(text)) {
      const marked = text.slice(at - ch.length, WITH_MARKS.lastIndex);
      const changed = marked !== marked.normalize('NFC');
      replaced = changed && marked === ch;
      if (changed) changedEnd = WITH_MARKS.lastIndex;
    }
    const ofEmoji = at <= flagEnd || (ch === '\u200d' && !eachAlone && EMOJI_JOINER.test(text));
    const escaped: boolean = ch !== ' ' && !ofEmoji &&
      (replaced || /[\p{C}\p{Z}]/u.test(ch) || (mark && (eachAlone || !base || at <= changedEnd)));
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (escaped) out += `\\u{${ch.codePointAt(0)!.toString(16)}}`;
    else out += ch;
    base = !escaped && !/[\n\t\r]/.test(ch);
  }
  return `${out}"`;
}

/** The most characters of a token a warning quotes: a longer one (a word as long as a line with no space) shows its start and length. */
const QUOTED_TOKEN_CHARACTERS = 40;

/**
 * A token quoted (escapeCharacters), `shown` of it (all of it, or its start): its combining marks as written (नमस्ते),
 * but in a token that is not in NFC those that NFC changes escaped (`Cafe\u{301}`), so that it looks unlike its NFC form,
 * another token; its emoji whole.
 */
export function quotedToken(token: string, shown = token): string {
  return escapeCharacters(shown, token === token.normalize('NFC') ? 'text' : 'notNFC');
}

/** The tokens --extend-vocab added that a list of them names. */
const ADDED_SHOWN = 8;

/** The tokens --extend-vocab added, quoted, the first ADDED_SHOWN: rnn train's start line's list, and rnn info's. */
export function addedText(tokens: readonly string[]): string {
  return firstNamed(tokens, ADDED_SHOWN, (token) => quoted(token), ' ');
}

/** A token quoted (quotedToken), cut to QUOTED_TOKEN_CHARACTERS with its length beside it where it is longer. */
function quotedTokenStart(token: string): string {
  const length = codePointCount(token);
  if (length <= QUOTED_TOKEN_CHARACTERS) return quotedToken(token);
  return `${quotedToken(token, codePointPrefix(token, QUOTED_TOKEN_CHARACTERS))}… (${grouped(length)} characters)`;
}

/** `unknownTokensWarning` from the tokens counted already (`PreparedData.unknown`). */
export function unknownSummaryWarning(level: TextLevel, modelPath: string, source: string, unknown: UnknownTokens): string | null {
  const { occurrences, distinct, top } = unknown;
  if (occurrences === 0) return null;
  const named = top.map(([token, n]) => `${quotedTokenStart(token)}${n > 1 ? ` ×${grouped(n)}` : ''}`);
  const others = distinct - named.length;
  return `${source} has ${tokenCount(occurrences, level)} outside the vocabulary of ${modelPath} ` +
    `(${named.join(', ')}${others > 0 ? ` and ${counted(others, 'other')}` : ''}); ` +
    `${occurrences === 1 ? 'it reads' : 'they read'} as <UNK>`;
}

/** `unknownTokensWarning` on stderr, when there is one. */
export function warnUnknownTokens(vocab: Vocabulary, modelPath: string, source: string, unknown: readonly string[]): void {
  const warning = unknownTokensWarning(vocab.level, modelPath, source, unknown);
  if (warning !== null) warn(warning);
}
