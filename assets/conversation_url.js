// The address bar follows the conversation on screen (components/conversation_url.py).
//
// A new chat is at "/" until its first question is saved; then the address becomes
// "/c/<id>" without a navigation, which would load the page again in the middle of the
// reply. Done here, when the open conversation's id changes, rather than by a script the
// server sends: that would be run with eval, which the Content-Security-Policy forbids.
import { useEffect, useRef } from "react";

export function ConversationUrl({ conversationId }) {
  // The id at mount may be a previous visit's: the address is the route's until it changes.
  const seen = useRef(conversationId);
  useEffect(() => {
    if (conversationId === seen.current) return;
    seen.current = conversationId;
    const path = `/c/${conversationId}`;
    if (conversationId > 0 && window.location.pathname !== path) {
      window.history.replaceState(window.history.state, "", path);
    }
  }, [conversationId]);
  return null;
}
