// Small browser-side helpers of the chat page; nothing here talks to the server.
(function () {
  // Enter sends, Shift+Enter adds a new line; never while an IME is composing (Chinese, Japanese).
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || target.id !== "composer" || event.key !== "Enter") return;
    if (event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (target.form) target.form.requestSubmit();
  });

  // Keep the newest text in view while a reply streams, unless the reader scrolled up.
  var stickToBottom = true;
  // The list's scrollHeight when the ResizeObserver last saw it (after a layout).
  var knownHeight = -1;
  function scroller() {
    return document.getElementById("message-scroll");
  }
  document.addEventListener(
    "scroll",
    function (event) {
      var box = scroller();
      if (!box || event.target !== box) return;
      // A scroll that came with new content is the browser's, not the reader's: e.g. a new
      // message is laid out at a guessed height first (content-visibility), the list shrinks
      // for a moment and the position is clamped. The observer below, which runs once the
      // new height is known, keeps the list at the bottom.
      if (box.scrollHeight !== knownHeight) return;
      stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    },
    true
  );
  // Scrolled when the list's height changes (a new line of the reply, a new message, a
  // message laid out for the first time), after the browser's own layout: never a layout
  // forced to read the height, and nothing to do while the text grows within a line.
  // (Reading scrollHeight after every change of the page forced a layout of it per step.)
  var watched = null;
  var resized = new ResizeObserver(function () {
    var box = scroller();
    if (!box) return;
    if (stickToBottom) box.scrollTop = box.scrollHeight;
    knownHeight = box.scrollHeight;
  });
  // React makes and replaces the list: watch whichever list is on the page (and its box,
  // whose height changes with the window's).
  new MutationObserver(function () {
    var box = scroller();
    var list = box ? box.firstElementChild : null;
    if (list === watched) return;
    resized.disconnect();
    watched = list;
    if (list) {
      resized.observe(list);
      resized.observe(box);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
