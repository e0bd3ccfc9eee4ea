// The server's one error shape, `{"error": {"code", "message", "details"}}`, as a JavaScript error.

export class ApiFailure extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The ApiFailure for a response that is not ok; a body that is not our JSON keeps the HTTP status. */
export async function failure(response) {
  try {
    const payload = await response.json();
    return new ApiFailure(response.status, payload.error.code, payload.error.message, payload.error.details ?? {});
  } catch {
    return new ApiFailure(response.status, `http_${response.status}`, response.statusText);
  }
}
