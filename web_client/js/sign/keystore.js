// The signer's key: ECDSA P-256 made by WebCrypto as NON-extractable and kept in IndexedDB, so
// it survives a reload but its private half can never be read out, not even by this page
// (Electronic Signature Law art. 13: creation data under the signer's sole control).

const DB_NAME = "accord-signing";
const STORE = "keys";
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function transact(db, mode, action) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

/** The key pair for `id` (one per agreement and signer), created on first use. */
export async function signingKey(id) {
  const db = await openDb();
  try {
    const existing = await transact(db, "readonly", (store) => store.get(id));
    if (existing) return { pair: existing, created: false };
    const pair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
    await transact(db, "readwrite", (store) => store.put(pair, id));
    return { pair, created: true };
  } finally {
    db.close();
  }
}

export async function spki(pair) {
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

/** ECDSA with SHA-256 over `data` (WebCrypto hashes it): raw r||s, 64 bytes. */
export async function sign(pair, data) {
  return new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data));
}
