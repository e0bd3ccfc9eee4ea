// The landing page: where to go from here, in the chosen language.

import { applyTranslations, register, toggleLanguage } from "./i18n.js";
import { HOME_LINKS } from "./home_messages.js";
import { MESSAGES } from "./room_messages.js";

register(MESSAGES);
register(HOME_LINKS);
applyTranslations(document);
document.getElementById("lang").addEventListener("click", toggleLanguage);
