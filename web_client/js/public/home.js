// The home page for the public: static content, translated.

import { startPage } from "./common.js";

startPage();
