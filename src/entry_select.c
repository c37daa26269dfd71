#include "entry_select.h"

#include <string.h>
#include <strings.h>

#include "error.h"

void imaddr_entry_select_init(struct imaddr_entry_select *select)
{
	memset(select, 0, sizeof(*select));
}

enum imaddr_status imaddr_entry_select_set_filter(struct imaddr_entry_select *select,
						  const char *text, struct imaddr_error *err)
{
	imaddr_ldif_filter_release(&select->filter);
	enum imaddr_status status = imaddr_ldif_filter_init(&select->filter, text, err);
	select->filter_ready = select->filter_given = status == IMADDR_OK;
	select->directory_type_how = NULL;
	return status;
}

enum imaddr_status imaddr_entry_select_set_type(struct imaddr_entry_select *select,
						enum imaddr_directory_type type, const char *how,
						struct imaddr_error *err)
{
	imaddr_ldif_filter_release(&select->filter);
	select->directory_type = type;
	select->directory_type_how = how;
	enum imaddr_status status = imaddr_ldif_filter_init(&select->filter,
		imaddr_directory_default_filter(type), err);
	select->filter_ready = status == IMADDR_OK;
	return status;
}

enum imaddr_status imaddr_entry_select_configure(struct imaddr_entry_select *select,
						 const struct imaddr_file_options *options,
						 struct imaddr_error *err)
{
	imaddr_entry_select_init(select);
	if ((unsigned)options->directory_type > IMADDR_DIRECTORY_OPENLDAP)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the directory type %d is none of enum imaddr_directory_type's",
					(int)options->directory_type);
	enum imaddr_status status = IMADDR_OK;
	select->every_entry = options->filter && !*options->filter;
	if (options->filter)
		status = imaddr_entry_select_set_filter(select, *options->filter ? options->filter
							: "(objectclass=*)", err);
	else if (options->directory_type_given)
		status = imaddr_entry_select_set_type(select, options->directory_type,
						      "--directory-type", err);
	if (status != IMADDR_OK)
		imaddr_entry_select_release(select);
	return status;
}

static bool has_value(const struct imaddr_ldif_value *values, size_t count, const char *type,
		      const char *value)
{
	for (size_t i = 0; i < count; i++) {
		if (values[i].type.bv_len == strlen(type) &&
		    !strncasecmp(values[i].type.bv_val, type, values[i].type.bv_len) &&
		    (!value || (values[i].value.bv_len == strlen(value) &&
				!strncasecmp(values[i].value.bv_val, value, strlen(value)))))
			return true;
	}
	return false;
}

enum imaddr_status imaddr_entry_select_entry(struct imaddr_entry_select *select,
					     const struct imaddr_ldif_value *values, size_t count,
					     bool *selected, struct imaddr_error *err)
{
	select->entries++;
	bool has_class = has_value(values, count, "objectClass", NULL);
	select->entries_classless += !has_class;
	*selected = false;
	if (!has_class && !select->filter_given) {
		*selected = true;
		return IMADDR_OK;
	}
	if (!select->filter_ready) {
		enum imaddr_status status = IMADDR_OK;
		if (has_value(values, count, "objectClass", "user"))
			status = imaddr_entry_select_set_type(select,
				has_value(values, count, "msDS-UserAccountDisabled", NULL)
					? IMADDR_DIRECTORY_AD_LDS : IMADDR_DIRECTORY_AD,
				"inferred from the entries", err);
		else if (has_value(values, count, "objectClass", "inetOrgPerson"))
			status = imaddr_entry_select_set_type(select, IMADDR_DIRECTORY_OPENLDAP,
							      "inferred from the entries", err);
		if (status != IMADDR_OK)
			return status;
	}
	*selected = select->filter_ready &&
		    imaddr_ldif_filter_match(&select->filter, values, count);
	select->entries_skipped += !*selected;
	return IMADDR_OK;
}

void imaddr_entry_select_skip(struct imaddr_entry_select *select)
{
	select->entries_skipped++;
}

void imaddr_entry_select_describe(const struct imaddr_entry_select *select,
				  struct imaddr_input_description *input)
{
	input->filter = select->filter_ready ? select->filter.text : NULL;
	input->directory_type = select->directory_type_how
		? imaddr_directory_type_name(select->directory_type) : NULL;
	input->directory_type_how = select->directory_type_how;
	input->entries = select->entries;
	input->entries_skipped = select->entries_skipped;
}

void imaddr_entry_select_release(struct imaddr_entry_select *select)
{
	imaddr_ldif_filter_release(&select->filter);
	select->filter_ready = false;
}
