// The landing page's links to the case system and the agreement tools.

export const HOME_LINKS = {
  zh: {
    "home.casesHeading": "调解案件",
    "home.cases": "申请调解、查看案件进度、选择调解员、法院审查（当事人、调解员、法院、管理员分入口登录）",
    "home.agreementHeading": "调解协议",
    "home.agreement": "调解协议书编辑",
    "home.verify": "验证调解协议书签名",
  },
  en: {
    "home.casesHeading": "Mediation cases",
    "home.cases": "Apply for mediation, follow a case, choose a mediator, court review (separate sign-in for parties, mediators, courts and administrators)",
    "home.agreementHeading": "Mediation agreements",
    "home.agreement": "Agreement editor",
    "home.verify": "Verify a signed agreement",
  },
};
