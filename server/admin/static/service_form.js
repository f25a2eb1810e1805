// The opening sessions of the service form: "Thêm khung giờ" adds an empty row, "Xóa"
// takes one away. Without this script the form still works: it always shows two blank
// rows, and a row left blank is not saved.
//
// Rows are named as WTForms' FieldList reads them (sessions-<n>-start, -end, -days); a new
// row takes the next unused number, and a gap left by a removed row is fine.
(function () {
  "use strict";

  const table = document.getElementById("sessions");
  const add = document.getElementById("session-add");
  if (!table || !add) return;
  const body = table.tBodies[0];
  const max = Number(add.dataset.max) || 10;
  const ROW_NAME = /^sessions-(\d+)-/;

  function rows() {
    return Array.from(body.querySelectorAll("tr.session-row"));
  }

  function rowNumber(row) {
    for (const input of row.querySelectorAll("input[name]")) {
      const found = ROW_NAME.exec(input.name);
      if (found) return Number(found[1]);
    }
    return -1;
  }

  function clear(row) {
    for (const input of row.querySelectorAll("input")) {
      if (input.type === "checkbox") input.checked = false;
      else input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const message of row.querySelectorAll(".field-error")) message.remove();
    row.classList.remove("has-error");
  }

  function renumber(row, n) {
    const swap = (value) => value.replace(ROW_NAME, `sessions-${n}-`);
    for (const element of row.querySelectorAll("[name], [id], label[for]")) {
      for (const attribute of ["name", "id", "for"]) {
        const value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, swap(value));
      }
    }
  }

  function sync() {
    // The rules take at most `max` sessions: no more rows than that are offered.
    add.disabled = rows().length >= max;
  }

  function addRow() {
    const all = rows();
    const model = all[all.length - 1];
    const row = model.cloneNode(true);
    clear(row);
    renumber(row, Math.max(-1, ...all.map(rowNumber)) + 1);
    body.appendChild(row);
    wire(row);
    sync();
    const first = row.querySelector("input[type=checkbox], input");
    if (first) first.focus();
  }

  function removeRow(row) {
    if (rows().length > 1) {
      row.remove();
      add.focus();
    } else {
      clear(row); // the last row stays, empty, so one can still be typed
    }
    sync();
  }

  function wire(row) {
    const remove = row.querySelector("button.session-remove");
    if (!remove) return;
    remove.hidden = false;
    remove.addEventListener("click", () => removeRow(row));
  }

  rows().forEach(wire);
  add.hidden = false;
  add.addEventListener("click", addRow);
  const noJsHelp = document.getElementById("sessions-no-js");
  if (noJsHelp) noJsHelp.hidden = true;
  sync();
})();
