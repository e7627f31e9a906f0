// theme.js — applies the saved theme before the first paint (a classic
// script in <head>, so there is no flash of the wrong colours). "system"
// (the default) follows prefers-color-scheme through CSS alone.
(function () {
  var t = null;
  try { t = localStorage.getItem('theme'); } catch (e) { /* storage off: system */ }
  if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
})();
