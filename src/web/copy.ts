// "Copy" buttons (browser only): a button with `data-copy` copies that value, one with `data-copy-from` the text of
// the element with that id. Buttons are rendered hidden (copying needs JavaScript) and revealed here; the values
// stay selectable text without it.

export function revealCopyButtons(root: ParentNode): void {
  root.querySelectorAll<HTMLButtonElement>('button.copy').forEach((button) => {
    button.hidden = false;
  });
}

async function writeClipboard(text: string, fallback: Element | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (or an insecure context): select the text so that the visitor can copy it.
    if (fallback) {
      const range = document.createRange();
      range.selectNodeContents(fallback);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
    }
    return false;
  }
}

export function setUpCopyButtons(root: Document): void {
  revealCopyButtons(root);
  root.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const button = target.closest<HTMLButtonElement>('button.copy');
    if (!button) return;
    const from = button.dataset.copyFrom ? root.getElementById(button.dataset.copyFrom) : null;
    const text = button.dataset.copy ?? from?.textContent ?? '';
    const shown = from ?? button.previousElementSibling;
    void writeClipboard(text, shown).then((copied) => {
      button.textContent = copied ? 'Copied' : 'Selected';
      button.dataset.copied = String(copied);
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 2000);
    });
  });
}
