// Runs before first paint: shows the theme this device remembers (see src/web/lib/theme/themes.ts).
try {
  var theme = localStorage.getItem('mainloop.theme');
  if (theme && /^[a-z-]{1,32}$/.test(theme)) document.documentElement.setAttribute('data-theme', theme);
} catch {
  // storage disabled: the default theme shows
}
