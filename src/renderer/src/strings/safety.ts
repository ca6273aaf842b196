// The words of safety numbers: the screen that shows one, verifying a contact, and the banner
// of a verified contact whose number changed (sending waits until it is accepted).
export const strings = {
  en: {
    'safety.open': 'Safety number',
    'safety.title': 'Safety number with {name}',
    'safety.lead':
      'Compare these digits with the ones {name} sees, in person or on a call. If they match, no one (the relay included) stands between you.',
    'safety.digits': 'Safety number digits',
    'safety.verified': 'Verified',
    'safety.notVerified': 'Not verified',
    'safety.verify': 'Mark as verified',
    'safety.unverify': 'Clear verification',
    'safety.close': 'Close',
    'safety.loading': 'Asking the relay for {name}’s key…',
    'safety.unavailable': 'The safety number cannot be shown: {detail}',
    'safety.failed': 'Could not change the verification: {detail}',
    'safety.changedLead':
      '{name}’s safety number changed since you verified it. Check the new number with {name} before you accept it.',
    'safety.blocked':
      '{name}’s safety number changed since you verified it: they recovered their account, or someone new has the name. Nothing is sent to {name} until you accept the new number.',
    'safety.accept': 'Accept new safety number',
    'safety.show': 'Show safety number',
    'safety.composerBlocked': 'Accept {name}’s new safety number to write again',
  },
  ru: {
    'safety.open': 'Код безопасности',
    'safety.title': 'Код безопасности с {name}',
    'safety.lead':
      'Сравните эти цифры с теми, что видит {name}, при встрече или по телефону. Если они совпадают, между вами никого нет, даже ретранслятора.',
    'safety.digits': 'Цифры кода безопасности',
    'safety.verified': 'Подтверждён',
    'safety.notVerified': 'Не подтверждён',
    'safety.verify': 'Отметить как подтверждённый',
    'safety.unverify': 'Снять подтверждение',
    'safety.close': 'Закрыть',
    'safety.loading': 'Запрашиваем ключ {name} у ретранслятора…',
    'safety.unavailable': 'Код безопасности нельзя показать: {detail}',
    'safety.failed': 'Не удалось изменить подтверждение: {detail}',
    'safety.changedLead':
      'Код безопасности с {name} изменился после подтверждения. Сверьте новый код с {name}, прежде чем принять его.',
    'safety.blocked':
      'Код безопасности с {name} изменился после подтверждения: учётную запись восстановили, или это имя занял кто-то другой. Сообщения для {name} не отправляются, пока вы не примете новый код.',
    'safety.accept': 'Принять новый код безопасности',
    'safety.show': 'Показать код безопасности',
    'safety.composerBlocked': 'Примите новый код безопасности с {name}, чтобы снова писать',
  },
} as const;
