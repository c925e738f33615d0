// The pages' own words in the visitor's two languages. The visit's language is chosen on the
// tablet (Korean first: the event is in Seoul) and stored with the visit, so the tablet, the wall
// tile and the visitor page all speak it. The portrait's title and story come from the API already
// in that language; this file holds only the interface around them.
//
// Markup: `data-i18n="key"` replaces an element's text; `data-i18n-html="key"` its markup, for the
// few sentences with bold words. Only strings from this file are ever put in as markup, and the
// {placeholders} in them are filled with escaped text.

export const LANGUAGES = ['ko', 'en'];
export const DEFAULT_LANGUAGE = 'ko'; // catalog_items.DEFAULT_LANGUAGE, what the API assumes

const STRINGS = {
  en: {
    'language.choose': 'Language',
    'welcome.title': 'Who were you in a past life?',
    'welcome.intro':
      'We take <b>one photo of your face</b> and paint you into a portrait from another time. It appears on <b>{display}</b> for a little while, with a QR code so you can take it home.',
    'consent.keep':
      '<b>What we keep:</b> your photo, a crop of your face, and the finished portrait. Nothing else — no name, no email.',
    'consent.howLong':
      '<b>For how long:</b> the photo and face crop are deleted within <b>1 day</b>; the portrait after <b>{retention}</b>.',
    'consent.delete':
      '<b>Delete it any time:</b> after the photo, this tablet shows you a private QR code; scan it and tap <b>“Delete my photos now”</b>. Everything goes at once.',
    'consent.use': 'Your photo is used only to make your portrait. It is never sold, shared or used to train anything.',
    agree: 'I agree — let’s start',
    decline: 'No thanks',
    'declined.big': 'No problem!',
    'declined.text': 'Nothing was recorded. Enjoy the gallery.',
    'back.start': 'Back to the start',
    'theme.title': 'Pick a style',
    'theme.next': 'Next: take the photo',
    cancel: 'Cancel',
    'theme.realistic.name': 'Realistic photo',
    'theme.realistic.blurb': 'A photograph from another century',
    'theme.painting.name': 'Oil painting',
    'theme.painting.blurb': 'Painted by an old master',
    'theme.travel.name': 'Traveller',
    'theme.travel.blurb': 'Far from home, long ago',
    'theme.animation.name': 'Animation',
    'theme.animation.blurb': 'Drawn like a cartoon hero',
    'camera.hint': 'Look straight at the camera. Take off sunglasses and hats.',
    'camera.shutter': 'Take my photo',
    'camera.file': 'Use a photo from this device instead',
    'camera.none': 'This device has no camera we can use. Choose a photo instead.',
    'camera.unavailable': 'The camera is not available. Choose a photo instead.',
    'review.title': 'Happy with it?',
    'review.alt': 'Your photo',
    'review.use': 'Use this photo',
    retake: 'Retake',
    'status.sending': 'Sending your photo…',
    'status.painting': 'Painting your past life…',
    'status.warming': 'Warming up the painter… this can take a few minutes.',
    'status.seconds': 'This takes a few seconds.',
    'done.alt': 'Your past-life portrait',
    'done.title': 'Meet your past self!',
    'done.look': 'Look up at <b>{display}</b> to see it there.',
    'done.private':
      '<b>Your private link:</b> scan this code to keep your portrait and to delete your photos whenever you like. Only this code can delete them; the one on the big screen only shows the portrait for a while.',
    'done.open': 'Open the private link',
    'rejected.title': 'Let’s try that again',
    'tip.face': 'Face the camera and keep still.',
    'tip.close': 'Come close enough that your face fills the oval.',
    'tip.light': 'Good light on your face; no sunglasses, hats or masks.',
    next: 'Next visitor',
    'start.over': 'Start over',
    display: 'display {display}',
    days: '{days} days',
    'error.ours': 'Something went wrong on our side. Please try again.',
    'error.slow': 'This is taking too long. Please try again.',
    'error.any': 'Something went wrong. Please try again.',
    'error.upload': 'The upload was refused ({status}). Please try again.',
    'error.retry': 'Please look at the camera and try again.',
    'error.unreadable': 'We couldn’t read that photo. Please take it again.',
    // The visitor page
    'v.loading': 'Finding your portrait…',
    'v.title': 'Your past life',
    'v.listen': 'Listen to the story',
    'v.download': 'Download the picture',
    'v.pending.title': 'Almost ready…',
    'v.pending.text': 'Your portrait is still being painted. This page updates by itself.',
    'v.unfinished.title': 'No portrait this time',
    'v.rejected': '{message} You can try again at the tablet.',
    'v.rejected.default': 'The photo could not be used.',
    'v.failed': 'Something went wrong on our side. You can try again at the tablet.',
    'v.delete': 'Delete my photos now',
    'v.confirm':
      '<b>Delete everything from this visit?</b> Your photo, the crop of your face and the portrait are removed for good, and this page stops working. This cannot be undone.',
    'v.confirm.yes': 'Yes, delete everything',
    'v.confirm.no': 'Keep it',
    'v.delete.error': 'That did not work ({error}). Please try again.',
    'v.viewer':
      'This link from the display shows the portrait for a little while only. Its owner deletes it with the private link the tablet showed them.',
    'v.retention':
      'We keep your photo and face crop for at most a day, and this portrait for {retention}. Then they are deleted automatically.',
    'v.deleted.title': 'Deleted',
    'v.deleted.text':
      'Your photo, the crop of your face and your portrait are gone, and so is the record of your visit. Nothing of it is kept. Thank you for visiting!',
    'v.expired.title': 'This link has expired',
    'v.expired.text':
      'The code on the display shows a portrait for a little while only. If this portrait is yours, open the private link the tablet showed you: it keeps working until the portrait is deleted.',
    'v.gone.title': 'This portrait is no longer here',
    'v.gone.text':
      'Portraits are kept for a few days only, or until their owner deletes them. Either way, nothing of this visit is stored any more.',
    'v.gone.note': 'Come back to the gallery and meet another past self!',
    // The wall's tile
    'wall.scan': 'Scan to keep it',
    'wall.warming.title': 'Warming up the painter…',
    'wall.warming.text': 'Your portrait is next. This can take a few minutes.',
  },
  ko: {
    'language.choose': '언어',
    'welcome.title': '전생에 나는 누구였을까요?',
    'welcome.intro':
      '<b>얼굴 사진 한 장</b>으로 다른 시대의 초상화 속 인물이 되어 보세요. 완성된 초상화는 잠시 동안 <b>{display}</b>에 나오고, QR 코드로 집에 가져갈 수 있어요.',
    'consent.keep':
      '<b>보관하는 것:</b> 사진, 얼굴 부분만 잘라 낸 이미지, 완성된 초상화. 그 밖에는 없어요. 이름도 이메일도 받지 않아요.',
    'consent.howLong':
      '<b>보관 기간:</b> 사진과 얼굴 이미지는 <b>1일</b> 안에, 초상화는 <b>{retention}</b> 뒤에 삭제돼요.',
    'consent.delete':
      '<b>언제든 삭제:</b> 사진을 찍고 나면 이 태블릿에 나만의 QR 코드가 나와요. 스캔한 뒤 <b>“지금 내 사진 삭제”</b>를 누르면 모두 한 번에 지워져요.',
    'consent.use': '사진은 초상화를 만드는 데에만 써요. 팔거나 공유하지 않고, 어떤 학습에도 쓰지 않아요.',
    agree: '동의해요, 시작할게요',
    decline: '괜찮아요',
    'declined.big': '알겠어요!',
    'declined.text': '아무것도 기록하지 않았어요. 즐거운 관람 되세요.',
    'back.start': '처음으로',
    'theme.title': '스타일을 골라 주세요',
    'theme.next': '다음: 사진 찍기',
    cancel: '취소',
    'theme.realistic.name': '실사 사진',
    'theme.realistic.blurb': '다른 세기에 찍은 사진 한 장',
    'theme.painting.name': '유화',
    'theme.painting.blurb': '옛 거장이 그린 초상화',
    'theme.travel.name': '여행자',
    'theme.travel.blurb': '먼 옛날, 집을 멀리 떠나',
    'theme.animation.name': '애니메이션',
    'theme.animation.blurb': '만화 속 주인공처럼',
    'camera.hint': '카메라를 똑바로 봐 주세요. 선글라스와 모자는 벗어 주세요.',
    'camera.shutter': '사진 찍기',
    'camera.file': '대신 이 기기의 사진 쓰기',
    'camera.none': '이 기기에는 쓸 수 있는 카메라가 없어요. 대신 사진을 골라 주세요.',
    'camera.unavailable': '카메라를 쓸 수 없어요. 대신 사진을 골라 주세요.',
    'review.title': '이 사진으로 할까요?',
    'review.alt': '내 사진',
    'review.use': '이 사진 쓰기',
    retake: '다시 찍기',
    'status.sending': '사진을 보내는 중…',
    'status.painting': '전생을 그리는 중…',
    'status.warming': '화가가 준비하는 중… 몇 분 걸릴 수 있어요.',
    'status.seconds': '몇 초면 돼요.',
    'done.alt': '전생의 내 초상화',
    'done.title': '전생의 나를 만나 보세요!',
    'done.look': '<b>{display}</b>에서도 볼 수 있어요.',
    'done.private':
      '<b>나만의 링크:</b> 이 코드를 스캔하면 초상화를 간직하고, 원할 때 언제든 사진을 지울 수 있어요. 삭제는 이 코드로만 할 수 있어요. 큰 화면의 코드는 잠시 동안 초상화를 보여 줄 뿐이에요.',
    'done.open': '나만의 링크 열기',
    'rejected.title': '다시 한번 찍어 볼까요',
    'tip.face': '카메라를 보고 가만히 있어 주세요.',
    'tip.close': '얼굴이 타원을 가득 채우도록 가까이 와 주세요.',
    'tip.light': '얼굴을 밝게 해 주시고, 선글라스·모자·마스크는 벗어 주세요.',
    next: '다음 분',
    'start.over': '처음부터',
    display: '{display}번 화면',
    days: '{days}일',
    'error.ours': '저희 쪽에 문제가 생겼어요. 다시 해 주세요.',
    'error.slow': '시간이 너무 오래 걸려요. 다시 해 주세요.',
    'error.any': '문제가 생겼어요. 다시 해 주세요.',
    'error.upload': '사진을 올리지 못했어요({status}). 다시 해 주세요.',
    'error.retry': '카메라를 보고 다시 해 주세요.',
    'error.unreadable': '사진을 읽지 못했어요. 다시 찍어 주세요.',
    // The visitor page
    'v.loading': '초상화를 찾는 중…',
    'v.title': '나의 전생',
    'v.listen': '이야기 듣기',
    'v.download': '그림 내려받기',
    'v.pending.title': '거의 다 됐어요…',
    'v.pending.text': '초상화를 아직 그리고 있어요. 이 페이지는 저절로 바뀌어요.',
    'v.unfinished.title': '이번에는 초상화가 없어요',
    'v.rejected': '{message} 태블릿에서 다시 해 볼 수 있어요.',
    'v.rejected.default': '사진을 쓸 수 없었어요.',
    'v.failed': '저희 쪽에 문제가 생겼어요. 태블릿에서 다시 해 볼 수 있어요.',
    'v.delete': '지금 내 사진 삭제',
    'v.confirm':
      '<b>이번 방문의 모든 것을 지울까요?</b> 사진, 얼굴 이미지, 초상화가 영영 지워지고 이 페이지도 더는 열리지 않아요. 되돌릴 수 없어요.',
    'v.confirm.yes': '네, 모두 지울게요',
    'v.confirm.no': '그대로 둘게요',
    'v.delete.error': '지우지 못했어요({error}). 다시 해 주세요.',
    'v.viewer':
      '화면에서 연 이 링크는 초상화를 잠시 동안만 보여 줘요. 주인은 태블릿이 보여 준 나만의 링크로 지울 수 있어요.',
    'v.retention': '사진과 얼굴 이미지는 최대 하루, 이 초상화는 {retention} 동안 보관한 뒤 자동으로 지워요.',
    'v.deleted.title': '삭제했어요',
    'v.deleted.text':
      '사진, 얼굴 이미지, 초상화, 그리고 방문 기록까지 모두 지웠어요. 남아 있는 것은 없어요. 찾아 주셔서 고맙습니다!',
    'v.expired.title': '링크가 만료됐어요',
    'v.expired.text':
      '화면의 코드는 초상화를 잠시 동안만 보여 줘요. 내 초상화라면 태블릿이 보여 준 나만의 링크를 열어 보세요. 초상화를 지울 때까지 계속 열려요.',
    'v.gone.title': '이 초상화는 이제 없어요',
    'v.gone.text': '초상화는 며칠 동안만, 또는 주인이 지울 때까지만 보관해요. 어느 쪽이든 이 방문의 기록은 더는 남아 있지 않아요.',
    'v.gone.note': '갤러리에 다시 와서 또 다른 전생을 만나 보세요!',
    // The wall's tile
    'wall.scan': '스캔해서 간직하세요',
    'wall.warming.title': '화가가 준비하는 중…',
    'wall.warming.text': '곧 초상화를 그려요. 몇 분 걸릴 수 있어요.',
  },
};

/** `value` when it is one of LANGUAGES, else null. */
export function known(value) {
  return LANGUAGES.includes(value) ? value : null;
}

/** The phone's or browser's own language, for pages that do not know the visit's yet. */
export function browserLanguage() {
  const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return preferred.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function fill(text, vars, escape) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? (escape ? escapeHtml(vars[name]) : String(vars[name])) : whole));
}

/** The string `key` in `lang` with its {placeholders} filled; English when `lang` lacks it. */
export function t(lang, key, vars = {}) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key];
  return text === undefined ? key : fill(text, vars, false);
}

/** Put every [data-i18n] and [data-i18n-html] text under `root` into `lang`, and mark the page. */
export function translate(lang, vars = {}, root = document) {
  document.documentElement.lang = lang;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(lang, node.dataset.i18n, vars);
  for (const node of root.querySelectorAll('[data-i18n-html]')) {
    const key = node.dataset.i18nHtml;
    const text = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
    node.innerHTML = fill(text, vars, true);
  }
  for (const node of root.querySelectorAll('[data-i18n-alt]')) node.alt = t(lang, node.dataset.i18nAlt, vars);
}
