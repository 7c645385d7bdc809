// Gatehouse console: the copy buttons. Everything works without this file; it only adds the buttons.

document.addEventListener('DOMContentLoaded', () => {
  // One polite live region announces the outcome, since a button's own label may not change with its text.
  const status = document.createElement('p');
  status.className = 'visually-hidden';
  status.setAttribute('role', 'status');
  document.body.append(status);
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const target = document.getElementById(button.dataset.copy);
    if (!target || !navigator.clipboard) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', async () => {
      const text = 'value' in target ? target.value : target.textContent;
      try {
        await navigator.clipboard.writeText(text.trim());
        button.textContent = 'Copied';
        status.textContent = 'Copied to the clipboard.';
      } catch {
        button.textContent = 'Copy failed: select and copy';
        status.textContent = 'Copying failed: select the text and copy it.';
      }
      setTimeout(() => {
        button.textContent = label;
        status.textContent = '';
      }, 2000);
    });
  }
});
