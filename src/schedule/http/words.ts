// A cron expression in words for the status page ("At 02:00, Monday through Friday"), by cronstrue.
import cronstrue from 'cronstrue';

const cache = new Map<string, string>();

// The expression in English, or the expression itself when cronstrue cannot read it.
export function cronInWords(cron: string): string {
  let words = cache.get(cron);
  if (words === undefined) {
    try {
      words = cronstrue.toString(cron, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
    } catch {
      words = cron;
    }
    cache.set(cron, words);
  }
  return words;
}
