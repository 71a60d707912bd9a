// One modal <dialog> for every confirmation: the action runs only after "Confirm"; a refusal is shown
// in the dialog as the problem's sentence and the dialog stays open.
import {fill, h} from './dom.js';

export function confirmAction({title, body, okLabel = 'Confirm', run}) {
  const dialog = document.getElementById('confirm');
  const form = dialog.querySelector('form');
  const ok = document.getElementById('confirm-ok');
  const error = document.getElementById('confirm-error');
  fill(document.getElementById('confirm-title'), title);
  fill(document.getElementById('confirm-body'), body || null);
  fill(error);
  ok.textContent = okLabel;
  ok.disabled = false;
  return new Promise((resolve) => {
    const onSubmit = async (e) => {
      if (e.submitter !== ok) return; // Cancel closes the dialog
      e.preventDefault();
      ok.disabled = true;
      fill(error);
      try {
        const result = await run(form);
        finish();
        dialog.close();
        resolve(result);
      } catch (err) {
        fill(error, err.message);
        ok.disabled = false;
      }
    };
    const onClose = () => {
      finish();
      resolve(null);
    };
    const finish = () => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    const first = dialog.querySelector('#confirm-body input');
    (first || ok).focus();
  });
}

export function field(label, input, hint) {
  const id = input.id || 'f-' + Math.random().toString(36).slice(2, 9);
  input.id = id;
  return h('div', {class: 'field'}, h('label', {for: id}, label), input, hint ? h('small', null, hint) : null);
}
