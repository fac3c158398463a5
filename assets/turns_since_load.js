// The turns finished since the conversation was loaded, kept in the browser
// (components/messages.py).
//
// Each turn's end sends only `lastTurn` (its question and reply) and a new `count`; this hook
// appends it to the list, and starts over when the conversation is loaded again (`load`
// changes), so finishing a turn never re-sends the conversation.
import { useEffect, useState } from "react";

export function useTurnsSinceLoad(load, count, lastTurn) {
  const [turns, setTurns] = useState({ load: null, count: 0, items: [] });
  useEffect(() => {
    setTurns((prev) => {
      if (prev.load !== load) return { load, count, items: [...lastTurn] };
      if (prev.count === count) return prev;
      return { load: prev.load, count, items: [...prev.items, ...lastTurn] };
    });
    // A turn is a new `count` (or a new `load`); `lastTurn` never changes without one of them.
  }, [load, count]);
  // Until the effect has caught up with a new load, show what that load will show: the
  // render that brings the newly loaded messages must not also show the old turns (a
  // reload flashed each message twice).
  if (turns.load !== load) return count > 0 ? lastTurn : [];
  return turns.items;
}
