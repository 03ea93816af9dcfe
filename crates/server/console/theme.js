// The theme before the first paint: the operator's choice (localStorage), else the system's.
// A classic script (not a module) so it runs before the page is drawn.
try {
  var chosen = localStorage.getItem('xlrs.console.theme');
  if (chosen === 'light' || chosen === 'dark') document.documentElement.dataset.theme = chosen;
} catch (e) {
  /* storage unavailable: follow the system */
}
