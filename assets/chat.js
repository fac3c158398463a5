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
  function scroller() {
    return document.getElementById("message-scroll");
  }
  document.addEventListener(
    "scroll",
    function (event) {
      var box = scroller();
      if (box && event.target === box) {
        stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      }
    },
    true
  );
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      var box = scroller();
      if (box && stickToBottom) box.scrollTop = box.scrollHeight;
    });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
