// The turns finished since the conversation was loaded, kept in the browser
// (components/messages.py).
//
// Each turn's end sends only `lastTurn` (its question and reply) and a new `count`; this hook
// appends it to the list, and starts over when the conversation is loaded again (`load`
// changes), so finishing a turn never re-sends the conversation.
import { useState } from "react";

export function useTurnsSinceLoad(load, count, lastTurn) {
  const [turns, setTurns] = useState({ load: null, count: 0, items: [] });
  // Updated while rendering (React renders again at once, before anything is shown), not in
  // an effect: the render that brings a turn's end must show its turn. From an effect, one
  // render showed the page without it: the streaming turn gone and the finished one not yet
  // there, so the list shrank (scrolled to the top) for a frame; and a reload flashed each
  // message twice.
  let next = turns;
  if (turns.load !== load) {
    next = { load, count, items: count > 0 ? [...lastTurn] : [] };
  } else if (turns.count !== count) {
    // A turn is a new `count`; `lastTurn` never changes without it.
    next = { load, count, items: [...turns.items, ...lastTurn] };
  }
  if (next !== turns) setTurns(next);
  return next.items;
}
