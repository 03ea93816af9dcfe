// The theme before the first paint: the operator's choice (localStorage), else the system's,
// followed while the page is open. A classic script (not a module) so it runs before the page
// is drawn; the stylesheet keys its colours on `data-theme` alone.
(function () {
  var system = matchMedia('(prefers-color-scheme: dark)');
  function chosen() {
    try {
      var theme = localStorage.getItem('xlrs.console.theme');
      return theme === 'light' || theme === 'dark' ? theme : null;
    } catch (e) {
      return null; /* storage unavailable: follow the system */
    }
  }
  function apply() {
    document.documentElement.dataset.theme = chosen() || (system.matches ? 'dark' : 'light');
  }
  apply();
  system.addEventListener('change', function () {
    if (!chosen()) apply();
  });
})();
