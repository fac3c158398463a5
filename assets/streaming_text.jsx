// A streamed text, built in the browser from one batch at a time (components/streaming.py).
//
// The server sends only the newest batch (`chunk`) and its number (`seq`), so a delta costs
// O(1) per token whatever the length of the text. `seq === base` means `chunk` holds the whole
// text so far: a start, or a resync after a reload or a reconnect. A batch is revealed over
// about the time until the next one is due, so batches a few hundred ms apart still read as
// a steady flow. React renders the div empty and never touches its text.
import { useEffect, useRef } from "react";

// How often more of a batch is revealed: 10 steps a second still read as steady typing (a few
// words a step), and each step costs a layout, a paint and a composite; at 16 steps a second a
// 1000-token reply cost Chromium ~3.4 s of CPU, at 10 about 2.2 s.
const REVEAL_STEP_MS = 100;
// Text without spaces (Chinese, Japanese): the first step shows this many characters.
const FIRST_STEP_CHARS = 4;
const SPACELESS_SCRIPT = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;

// How much of `text` the first step of a reply shows: its first word, so that the reply is
// readable at once (one character every 100 ms took 100-300 ms to show a word), or a few
// characters of text without spaces.
export function firstStepLength(text) {
  const word = /^\s*\S+/.exec(text);
  if (!word) return text.length;
  const start = word[0].length - word[0].trimStart().length;
  if (SPACELESS_SCRIPT.test(word[0])) {
    return Math.min(word[0].length, start + FIRST_STEP_CHARS);
  }
  return word[0].length;
}

// `count` characters of `text`, or one more when the last would split a surrogate pair
// (an emoji shown as two broken halves until the next step).
function wholeCharacters(text, count) {
  const code = text.charCodeAt(count - 1);
  return code >= 0xd800 && code <= 0xdbff && count < text.length ? count + 1 : count;
}

export function StreamingText({ seq, base, chunk, onGap, ref, ...props }) {
  // Reflex passes a ref object when the element has an id; otherwise keep our own.
  const ownRef = useRef(null);
  const elementRef = ref ?? ownRef;
  const stream = useRef({ seq: null, pending: "", gap: 40, last: 0, timer: 0, asked: null });

  useEffect(() => {
    const el = elementRef.current;
    if (!el) return;
    const s = stream.current;
    if (seq === base) {
      if (s.timer) clearTimeout(s.timer);
      el.textContent = chunk;
      Object.assign(s, { seq, pending: "", timer: 0, last: performance.now(), asked: null });
      return;
    }
    if (s.seq === null || seq !== s.seq + 1) {
      // A batch went unseen (React merged deltas that came together, or the element
      // mounted mid-stream): ask once for the whole text so far; batches wait for it.
      if (s.seq !== null && seq <= s.seq) return;
      if (s.asked === null && onGap) {
        s.asked = seq;
        onGap();
      }
      return;
    }
    const now = performance.now();
    s.gap = Math.min(400, Math.max(16, now - s.last));
    s.last = now;
    s.seq = seq;
    s.pending += chunk;
    if (s.timer) return;
    let before = now;
    const reveal = () => {
      const time = performance.now();
      let count = Math.max(1, Math.ceil((s.pending.length * (time - before)) / s.gap));
      if (!el.firstChild) count = Math.max(count, firstStepLength(s.pending));
      count = wholeCharacters(s.pending, count);
      before = time;
      // A node per step: only the newest text is repainted, not the whole reply.
      el.appendChild(document.createTextNode(s.pending.slice(0, count)));
      s.pending = s.pending.slice(count);
      s.timer = s.pending ? setTimeout(reveal, REVEAL_STEP_MS) : 0;
    };
    reveal();
    // A batch is a new `seq` (or `base`); `chunk` never changes without one of them.
  }, [seq, base]);

  // No reveal step after the element is gone.
  useEffect(
    () => () => {
      clearTimeout(stream.current.timer);
      stream.current.timer = 0;
    },
    [],
  );

  return <div ref={elementRef} {...props} />;
}
