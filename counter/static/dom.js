/* Small DOM helpers shared by the counter terminal and the supervisor view. */
"use strict";
window.GiliranDom = (() => {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A bilingual text: Bahasa Indonesia first, the English after a slash.
  function bi(tag, className, message) {
    const node = el(tag, className, message.id);
    node.append(" ", el("span", "en", `/ ${message.en}`));
    return node;
  }

  // Fill {placeholders} in both languages of a catalogue message.
  function fill(message, values) {
    const out = {};
    for (const lang of ["id", "en"]) {
      out[lang] = message[lang].replace(/\{(\w+)\}/g, (all, key) =>
        (values[key] !== undefined ? String(values[key]) : all));
    }
    return out;
  }

  return {el, bi, fill};
})();
