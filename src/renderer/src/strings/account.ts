// The words of accounts: the recovery code, linking and recovering on the login screen, a name
// that is taken, linked devices in settings, and a contact whose identity changed.
export const strings = {
  en: {
    'login.mode.create': 'Log in',
    'login.mode.link': 'Link to an existing account',
    'login.mode.recover': 'Recover an account',
    'login.relayPin': 'Certificate SHA-256: {pin}',
    'login.relayNoPin':
      'No certificate pin in the address: the first certificate seen is trusted and kept.',
    'login.link.lead':
      'On a device already logged in, open Settings, then “Link a device”, and type the code it shows.',
    'login.link.code': 'Link code',
    'login.link.codeHint': 'Ten letters and digits, e.g. ABCDE-FGHJK',
    'login.link.badCode': 'A link code is ten letters and digits, e.g. ABCDE-FGHJK.',
    'login.link.submit': 'Link this device',
    'login.link.waiting': 'Waiting for the other device to accept…',
    'login.recover.lead':
      'Take your account back with the recovery code shown when it was created. Your other devices will be removed from it.',
    'login.recover.code': 'Recovery code',
    'login.recover.codeHint': '24 letters and digits in groups of four',
    'login.recover.badCode': 'A recovery code is 24 letters and digits, in groups of four.',
    'login.recover.submit': 'Recover the account',
    'login.recover.working': 'Recovering…',

    'nameTaken.title': 'The name “{name}” is taken',
    'nameTaken.lead':
      'Someone already has an account called “{name}” on this relay, so this profile cannot use it. Pick another name. If the account is yours, open a new profile and link it to the account from one of your devices, or recover the account there with its recovery code.',
    'nameTaken.newName': 'Another user name',
    'nameTaken.submit': 'Use this name',

    'accountRefused.removed.title': 'This device was removed from “{name}”',
    'accountRefused.removed.lead':
      'It was unlinked from the account, or the account was recovered on another device. The relay no longer accepts it. To use this computer again, open a new profile and link it to the account from one of its devices.',
    'accountRefused.unknown.title': 'The relay does not know this device',
    'accountRefused.unknown.lead':
      'The relay refused this device’s keys. It may have lost its accounts (a relay that was reset). Nothing was sent under your name.',

    'recovery.title': 'Your recovery code',
    'recovery.lead':
      'This code takes your account back if you lose all your devices. Write it down and keep it somewhere safe. It is shown only this once.',
    'recovery.typeLast': 'To confirm, type its last group ({n} characters)',
    'recovery.wrongLast': 'That is not the last group of the code.',
    'recovery.written': 'I have written it down',
    'recovery.confirm': 'Done',
    'recovery.failed': 'The confirmation could not be saved: {detail}',

    'settings.device': 'This device',
    'settings.identity': 'Identity fingerprint',
    'devices.title': 'Linked devices',
    'devices.loading': 'Loading the devices…',
    'devices.loadFailed': 'The devices could not be loaded: {detail}',
    'devices.current': 'this device',
    'devices.online': 'online',
    'devices.remove': 'Remove',
    'devices.removeConfirm':
      'Remove “{name}” from your account? It will be refused from then on and must be linked again to come back.',
    'devices.removeConfirmSelf':
      'Remove this device from your account? It will stop working at once and must be linked again to come back.',
    'devices.removeYes': 'Remove',
    'devices.removeNo': 'Cancel',
    'devices.removeFailed': 'The device could not be removed: {detail}',
    'link.title': 'Link a device',
    'link.lead':
      'On the new device choose “Link to an existing account” and type this code, or scan it.',
    'link.start': 'Show a link code',
    'link.starting': 'Asking the relay…',
    'link.failed': 'No link code: {detail}',
    'link.expires': 'Expires in {time}',
    'link.expired': 'The code has expired.',
    'link.again': 'New code',
    'link.qr': 'QR code of the link code',
    'link.request': 'Link device “{name}” ({fingerprint})?',
    'link.requestHint': 'Accept only if this is the device where you typed the code just now.',
    'link.accept': 'Accept',
    'link.decline': 'Decline',
    'link.answerFailed': 'The answer could not be sent: {detail}',
    'link.linked': '“{name}” is now linked to your account.',
    'identity.changed':
      '{name}’s identity changed: they recovered their account or someone new has their name. Check with them another way before trusting what they say.',
  },
  ru: {
    'login.mode.create': 'Вход',
    'login.mode.link': 'Привязать к существующей учётной записи',
    'login.mode.recover': 'Восстановить учётную запись',
    'login.relayPin': 'SHA-256 сертификата: {pin}',
    'login.relayNoPin':
      'В адресе нет отпечатка сертификата: первый увиденный сертификат будет принят и запомнен.',
    'login.link.lead':
      'На устройстве, где вы уже вошли, откройте «Настройки» → «Привязать устройство» и введите показанный там код.',
    'login.link.code': 'Код привязки',
    'login.link.codeHint': 'Десять букв и цифр, например ABCDE-FGHJK',
    'login.link.badCode': 'Код привязки — десять букв и цифр, например ABCDE-FGHJK.',
    'login.link.submit': 'Привязать это устройство',
    'login.link.waiting': 'Ждём подтверждения на другом устройстве…',
    'login.recover.lead':
      'Верните учётную запись кодом восстановления, показанным при её создании. Остальные ваши устройства будут от неё отвязаны.',
    'login.recover.code': 'Код восстановления',
    'login.recover.codeHint': '24 буквы и цифры группами по четыре',
    'login.recover.badCode': 'Код восстановления — 24 буквы и цифры группами по четыре.',
    'login.recover.submit': 'Восстановить учётную запись',
    'login.recover.working': 'Восстановление…',

    'nameTaken.title': 'Имя «{name}» занято',
    'nameTaken.lead':
      'На этом ретрансляторе уже есть учётная запись «{name}», поэтому этот профиль не может её использовать. Выберите другое имя. Если учётная запись ваша, откройте новый профиль и привяжите его к ней с одного из ваших устройств или восстановите там учётную запись кодом восстановления.',
    'nameTaken.newName': 'Другое имя пользователя',
    'nameTaken.submit': 'Взять это имя',

    'accountRefused.removed.title': 'Это устройство отвязано от «{name}»',
    'accountRefused.removed.lead':
      'Его отвязали от учётной записи, или учётную запись восстановили на другом устройстве. Ретранслятор его больше не принимает. Чтобы снова пользоваться Strata на этом компьютере, откройте новый профиль и привяжите его к учётной записи с одного из её устройств.',
    'accountRefused.unknown.title': 'Ретранслятор не знает этого устройства',
    'accountRefused.unknown.lead':
      'Ретранслятор не принял ключи этого устройства. Возможно, он потерял свои учётные записи (его сбросили). От вашего имени ничего не отправлено.',

    'recovery.title': 'Ваш код восстановления',
    'recovery.lead':
      'Этот код вернёт учётную запись, если вы потеряете все устройства. Запишите его и храните в надёжном месте. Он показывается только сейчас.',
    'recovery.typeLast': 'Для подтверждения введите его последнюю группу ({n} символа)',
    'recovery.wrongLast': 'Это не последняя группа кода.',
    'recovery.written': 'Я записал(а) код',
    'recovery.confirm': 'Готово',
    'recovery.failed': 'Подтверждение не сохранилось: {detail}',

    'settings.device': 'Это устройство',
    'settings.identity': 'Отпечаток ключа учётной записи',
    'devices.title': 'Привязанные устройства',
    'devices.loading': 'Загрузка устройств…',
    'devices.loadFailed': 'Не удалось загрузить устройства: {detail}',
    'devices.current': 'это устройство',
    'devices.online': 'в сети',
    'devices.remove': 'Отвязать',
    'devices.removeConfirm':
      'Отвязать «{name}» от учётной записи? Ретранслятор перестанет его принимать; чтобы вернуть, его придётся привязать снова.',
    'devices.removeConfirmSelf':
      'Отвязать это устройство от учётной записи? Оно сразу перестанет работать; чтобы вернуть, его придётся привязать снова.',
    'devices.removeYes': 'Отвязать',
    'devices.removeNo': 'Отмена',
    'devices.removeFailed': 'Не удалось отвязать устройство: {detail}',
    'link.title': 'Привязать устройство',
    'link.lead':
      'На новом устройстве выберите «Привязать к существующей учётной записи» и введите этот код или отсканируйте его.',
    'link.start': 'Показать код привязки',
    'link.starting': 'Запрос к ретранслятору…',
    'link.failed': 'Код привязки не получен: {detail}',
    'link.expires': 'Истекает через {time}',
    'link.expired': 'Срок кода истёк.',
    'link.again': 'Новый код',
    'link.qr': 'QR-код кода привязки',
    'link.request': 'Привязать устройство «{name}» ({fingerprint})?',
    'link.requestHint': 'Соглашайтесь, только если это устройство, где вы только что ввели код.',
    'link.accept': 'Привязать',
    'link.decline': 'Отклонить',
    'link.answerFailed': 'Ответ не отправлен: {detail}',
    'link.linked': '«{name}» привязано к вашей учётной записи.',
    'identity.changed':
      'Ключ учётной записи {name} изменился: учётную запись восстановили, или это имя занял кто-то другой. Прежде чем доверять сообщениям, уточните у собеседника другим способом.',
  },
} as const;
